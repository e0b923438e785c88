// Package quirk is the table of what differs between kernel versions on
// each architecture (Table): QEMU CPU models, devices a kernel lacks,
// config symbols dropped or renamed over time, config lines an old
// allnoconfig needs stated (Set), make variables old kernels need with the
// host's GCC, the kmalloc alignment the models compute with. Code asks
// For(arch, version) and applies the merged Set; it never tests versions
// itself (package kver orders them).
//
// What it promises: every row has an id, the half-open range of kernels
// it applies to and the public fact behind it (Why), and the applied ids
// are recorded with every built kernel; For is pure and gives the same
// Set for the same arch and version. A row that applies to 5.4 names the
// 5.4 source files its fact was read from (Files), and the tests check
// what they can offline against a list of 5.4's Kconfig symbols
// (testdata/kconfig-5.4.301.txt, made by testdata/kconfig-symbols.sh):
// every option lkmtest requests of 5.4 exists there or is dropped or
// renamed by a row (TestKconfigOf54), and each row's drops, renames and
// set lines agree with it (TestQuirkFacts54).
package quirk
