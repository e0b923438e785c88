// Package arch is the table of what lkmtest knows about each guest
// architecture: its names and aliases, how the kernel is built for it,
// which QEMU boots it, which CPU flags mean KVM could work, and which
// Debian packages provide its emulator, cross compiler and C library. It
// is a leaf: every stage that needs an arch fact reads it here, and
// nothing here runs a program.
//
// It promises: Parse accepts every alias in the table and names the valid
// ones otherwise; Host fails on a host architecture the table lacks rather
// than guessing.
package arch
