// Package spec reads test specifications: the test.yaml files that sit beside
// each module and say how to test it (Load, Parse, Find), and writes the
// smoke test of a module directory that has none (SpecLess, Smoke); it
// also says which tree a spec's modules are built in a mirror of
// (TreeRoot).
//
// A spec is data: the harness runs its steps in the guest and the verdict
// package judges them. This package starts no process and writes no file:
// it reads the spec files, and the module trees they name for TreeRoot.
//
// What it promises:
//   - Decoding is strict: an unknown key, at any depth (a step's, boot's, a
//     log expectation's), is an error that lists the keys valid at that
//     place and names no Go type; so are type errors ("want a list").
//   - Every error is an *Error at the YAML node that is wrong, the key or
//     the list item holding the bad value (a pattern, an errno name, a
//     module directory), not its step's first line; it prints as
//     "file:line: message" and carries the column too.
//   - Every error of a spec is reported in one go, in the order of the file,
//     and Find reports every malformed spec under its root at once.
//   - A spec that Parse accepts has a name, at least one step, valid
//     regular expressions, and ${name} references that an earlier pattern
//     captures; its defaults (timeouts, boot memory and CPUs, expect: ok)
//     are filled in.
package spec
