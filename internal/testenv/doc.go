// Package testenv is where lkmtest's tests say what they need of the host,
// so that what `make unit` (go test -short) leaves out is decided in one
// place and every skip gives the same reason.
//
// A test that boots QEMU calls NeedsVM first; one that builds, unpacks or
// configures a kernel (a kernel make, a kernel tarball) calls
// NeedsKernelBuild. Both skip under -short and do nothing otherwise: the
// test then builds what is missing and fails, never skips, when a tool is
// missing. A test that this host cannot run at all (it needs root, say)
// calls MustRun: outside CI that is a skip, under CI it is a failure, so a
// CI job cannot go green while a test the README counts on never ran.
package testenv
