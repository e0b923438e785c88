// Package kver compares Linux kernel versions. It is a leaf: the quirk
// table, the models, the specs' kernel requirements and the source
// resolver all order versions here, and nothing here reads a file or runs
// a program.
//
// A version is dotted decimal ("5.4", "6.1.192", "6.12.0"), as the kernel's
// Makefile and uname name it. It promises:
//   - components compare as numbers, so 5.4 < 5.10 < 5.12 and 10.0 > 9.9;
//   - a missing component counts as 0, so 6.12 = 6.12.0 and 6.1 < 6.1.192;
//   - whatever follows a component's digits is ignored ("6.12.0-rc1",
//     "6.1.0-13-amd64", "6.12.57+deb13"): a release candidate compares
//     equal to its release, which is what a feature check wants (the
//     features of 6.12 are merged by 6.12-rc1), and a distribution's
//     suffix does not change where a kernel falls;
//   - a Range is half-open, [Since, Before), and an empty bound is
//     unbounded.
package kver
