// Package kernelconfigs holds the Kconfig fragments lkmtest builds its
// kernels from, embedded in the binary: base.config for every kernel, then
// <arch>.config (Always). They are merged onto allnoconfig, so every
// option a test needs must be named here or in a test's own fragment. The
// other fragments (debug.config, kunit.config: Names) are applied only when
// a spec (boot.config: lkmtest:NAME) or the command line (--kconfig
// lkmtest:NAME) names them (Lookup).
//
// What it promises: a fragment name is looked up in the embedded set only,
// never on disk; an unknown name is an error wrapping ErrUnknown that
// lists the known ones, and the fragments every kernel gets cannot be
// named. A fragment's leading comment says what it is for: its first
// sentence is what "lkmtest kernel fragments" lists (Description).
package kernelconfigs
