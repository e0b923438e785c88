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

import (
	"os"
	"strconv"
	"testing"
)

// The reasons of the skips under -short.
const (
	VMReason          = "boots QEMU; not in make unit"
	KernelBuildReason = "runs a kernel make or unpacks a kernel tarball; not in make unit"
)

// NeedsVM skips t under -short: it boots QEMU.
func NeedsVM(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip(VMReason)
	}
}

// NeedsKernelBuild skips t under -short: it builds, configures or unpacks
// a kernel (it may boot one too).
func NeedsKernelBuild(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip(KernelBuildReason)
	}
}

// InCI reports whether the tests run under CI: $CI is true (GitHub Actions
// and most CI systems set CI=true).
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// MustRun is for a test that cannot run on this host, why saying what is
// missing ("mounting a tmpfs needs root"): under CI it fails at once,
// elsewhere it skips. Call it only once the test knows it cannot run.
func MustRun(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("cannot run here, and CI=true: a test that CI must run did not: %s", why)
		return
	}
	t.Skipf("cannot run here: %s (under CI=true this is a failure)", why)
}
