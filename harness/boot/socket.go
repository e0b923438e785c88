package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// socketKinds are the kinds of socket directories lkmtest makes: a test's
// VM, a snapshot's VM, the accelerator probe's VM.
var socketKinds = []string{"vm", "snap", "probe"}

// socketOwnerFile is locked (flock) by the process that uses the directory,
// for as long as it does.
const socketOwnerFile = ".owner"

var (
	sweepOnce   sync.Once
	ownersMu    sync.Mutex
	socketOwner = map[string]*os.File{}
)

// socketDir makes a temporary socket directory of kind
// ("lkmtest-vm-<pid>-...") and holds a lock in it until releaseSocketDir.
// The first call also removes the directories whose lock nobody holds:
// those of lkmtest processes that are gone (kill -9 cannot clean up). A
// lock, not the pid, tells: a live process of another PID namespace
// sharing /tmp keeps its directories.
func socketDir(kind string) (string, error) {
	sweepOnce.Do(sweepSocketDirs)
	dir, err := os.MkdirTemp("", fmt.Sprintf("lkmtest-%s-%d-", kind, os.Getpid()))
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(filepath.Join(dir, socketOwnerFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("socket directory: %w", err)
	}
	ownersMu.Lock()
	socketOwner[dir] = f
	ownersMu.Unlock()
	return dir, nil
}

// releaseSocketDir removes a socket directory and drops its lock.
func releaseSocketDir(dir string) {
	_ = os.RemoveAll(dir)
	ownersMu.Lock()
	if f := socketOwner[dir]; f != nil {
		f.Close()
		delete(socketOwner, dir)
	}
	ownersMu.Unlock()
}

func sweepSocketDirs() {
	for _, kind := range socketKinds {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "lkmtest-"+kind+"-*-*"))
		for _, d := range dirs {
			f, err := os.OpenFile(filepath.Join(d, socketOwnerFile), os.O_RDWR, 0)
			if err != nil {
				continue // being set up, or not ours
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				_ = os.RemoveAll(d) // nobody holds it: its process is gone
			}
			f.Close()
		}
	}
}
