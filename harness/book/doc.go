// Package book is the catalogue of Linux Kernel Programming's examples:
// the chapters of both editions (1st, 5.4 LTS; 2nd, 6.1 LTS) with their
// titles, every example of the author's two repositories by its path there
// ("ch8/slab2_buggy"), and for each either the tests of lkmtest's book
// suite that reproduce it or why it has no VM test (it needs real
// hardware, is a script the book runs on the host, a kernel build
// walkthrough, is covered by another test, or simply has no test yet).
//
// The catalogue is data, catalogue.yaml, embedded in the binary; `lkmtest
// list` shows it per chapter and prints the README's book table from it.
// It is a leaf: it reads no file at run time and starts no process.
//
// What it promises:
//   - Load decodes the catalogue strictly (an unknown key is an error) and
//     checks it on its own: every example has a path in at least one
//     edition, in a chapter that edition has; either tests (with the
//     checks they make) or a known no_test kind with its reason; no path
//     twice in an edition. Every error is "catalogue.yaml:LINE: message".
//   - Check compares it with a suite's specs: every test it names exists,
//     every spec tagged "book" is named by some example, and a spec's
//     chapter is one of its examples' chapters. The unit tests run it on
//     modules/, so the catalogue cannot fall behind the suite.
package book
