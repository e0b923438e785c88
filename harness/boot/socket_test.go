package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSocketDirSweep: the socket directory of a process that is gone (kill
// -9 leaves it; nobody holds its lock) is removed by the next lkmtest; one
// whose lock is held (a live run, maybe in another PID namespace) is kept.
func TestSocketDirSweep(t *testing.T) {
	stale := filepath.Join(os.TempDir(), fmt.Sprintf("lkmtest-vm-%d-123", os.Getpid()))
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, socketOwnerFile), nil, 0o600)
	live, err := socketDir("snap")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSocketDir(live)
	sweepSocketDirs()
	if _, err := os.Stat(stale); err == nil {
		os.RemoveAll(stale)
		t.Errorf("%s (nobody holds its lock) was kept", stale)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("%s (its lock is held) was removed", live)
	}
	releaseSocketDir(live)
	if _, err := os.Stat(live); err == nil {
		t.Errorf("%s stays after its release", live)
	}
}
