package qemu

import (
	"fmt"
	"strings"
	"time"
)

// Exit says how a VM ended.
type Exit struct {
	// Code is QEMU's exit status (-1 when it was killed by a signal).
	Code int
	// Panicked is true when the guest reported a panic (pvpanic).
	Panicked bool
	// Shutdown is the reason of QEMU's SHUTDOWN event ("guest-shutdown",
	// "guest-reset", "guest-panic", "host-qmp-quit"...), "" when none was seen.
	Shutdown string
	// TimedOut is true when the VM's own timeout stopped it.
	TimedOut bool
	// Stopped is true when Stop (or a cancelled context) ended it.
	Stopped bool
	// Stderr is what QEMU wrote on its standard error.
	Stderr string
	// Duration is the wall time from start to exit.
	Duration time.Duration
}

// Clean reports whether the guest shut itself down without a panic.
func (e Exit) Clean() bool {
	return e.Code == 0 && !e.Panicked && !e.TimedOut && !e.Stopped
}

// String describes the exit for people.
func (e Exit) String() string {
	var parts []string
	switch {
	case e.TimedOut:
		parts = append(parts, "stopped by timeout")
	case e.Stopped:
		parts = append(parts, "stopped")
	case e.Panicked:
		parts = append(parts, "guest panicked")
	}
	if e.Shutdown != "" {
		parts = append(parts, "shutdown reason "+e.Shutdown)
	}
	parts = append(parts, fmt.Sprintf("qemu exit status %d", e.Code))
	if s := strings.TrimSpace(e.Stderr); s != "" {
		parts = append(parts, "qemu stderr: "+s)
	}
	return strings.Join(parts, ", ")
}
