// Package model computes what a book example must print on a given kernel
// and arch, from the kernel's rules rather than from a recorded output, so
// that a spec can ask "every row equals the model" (the model: key of a
// step). Models are named in Models (kmalloc-wastage, kmalloc-max); Check
// compares a step's log with a model's lines.
//
// What it promises: a model is a pure function of the kernel version, the
// arch and the step's parameters; what differs between versions and arches
// (the minimum kmalloc alignment) comes from the quirk table, never from a
// test of the version here. Check requires every model line in order and
// refuses extra lines that look like rows, so a wrong kernel or a broken
// module fails.
package model
