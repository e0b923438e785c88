// Package kbuild runs the kernel's build system: it resolves kernel source
// trees (source.go), configures and builds kernels out of tree into the
// cache (kernel.go), and builds out-of-tree modules against them
// (module.go). Every command is logged verbatim before it runs, and its
// output is kept in a log file next to what it built.
package kbuild
