// Package spec reads test specifications: the test.yaml files that sit beside
// each module and say how to test it.
//
// Decoding is strict (an unknown key is an error) and every error names the
// file and line ("modules/ch04-hello/test.yaml:12: ..."). A spec is data: the
// harness runs its steps in the guest and the verdict package judges them.
package spec
