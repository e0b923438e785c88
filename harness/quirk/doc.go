// Package quirk is the table of what differs between kernel versions on
// each architecture (Table): QEMU CPU models, devices a kernel lacks,
// config symbols dropped or renamed over time, make variables old kernels
// need with the host's GCC, the kmalloc alignment the models compute with.
// Code asks For(arch, version) and applies the merged Set; it never tests
// versions itself (package kver orders them).
//
// What it promises: every row has an id, the half-open range of kernels
// it applies to and the public fact behind it (Why), and the applied ids
// are recorded with every built kernel; For is pure and gives the same
// Set for the same arch and version.
package quirk
