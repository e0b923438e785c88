package kbuild

import "github.com/lkmtest/lkmtest/harness/arch"

// MakeArgs are the make variables every build for a of kernel version
// needs, the kernel's and its modules' alike: ARCH=, CROSS_COMPILE= when
// cross-building, and the quirk table's.
func MakeArgs(a arch.Arch, version string) []string { return archArgs(a, version) }
