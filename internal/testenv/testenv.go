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
