package spec

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The guest agent reports a failed system call by its errno name and a
// killed program by its signal name, as golang.org/x/sys/unix names them
// on Linux; a spec may expect only names it can report.

var (
	errnoOnce  sync.Once
	errnoNames map[string]bool
)

// errnoShared are the Linux errno numbers with two names; the guest
// reports one of them (errnoAlias says which).
var errnoShared = map[string]syscall.Errno{
	"EAGAIN": unix.EAGAIN, "EWOULDBLOCK": unix.EWOULDBLOCK, "EDEADLK": unix.EDEADLK, "EDEADLOCK": unix.EDEADLOCK,
	"EOPNOTSUPP": unix.EOPNOTSUPP, "ENOTSUP": unix.ENOTSUP,
}

// errnoAlias returns the name the guest reports for name, when name is
// the other name of its number.
func errnoAlias(name string) (string, bool) {
	e, ok := errnoShared[name]
	if !ok || unix.ErrnoName(e) == name {
		return "", false
	}
	return unix.ErrnoName(e), true
}

// knownErrno reports whether name is an errno name the guest can report.
func knownErrno(name string) bool {
	errnoOnce.Do(func() {
		errnoNames = map[string]bool{}
		for e := syscall.Errno(1); e < 4096; e++ {
			if n := unix.ErrnoName(e); n != "" {
				errnoNames[n] = true
			}
		}
	})
	return errnoNames[name]
}

// knownSignal reports whether name is a Linux signal name.
func knownSignal(name string) bool { return unix.SignalNum(name) != 0 }
