package qemu

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// AccelChoice is the accelerator a run uses and why it was chosen.
type AccelChoice struct {
	// Accel is the chosen accelerator.
	Accel Accel
	// Reason says why, in words for the user.
	Reason string
}

// ParseAccelMode checks an --accel value: auto, kvm or tcg.
func ParseAccelMode(s string) (string, error) {
	switch s {
	case "auto", "kvm", "tcg":
		return s, nil
	}
	return "", fmt.Errorf("invalid --accel %q (valid: auto, kvm, tcg)", s)
}

// KVMUsable runs the cheap checks that KVM could work for arch: same
// architecture as the host, virtualization flags in /proc/cpuinfo, /dev/kvm
// openable read-write and answering KVM_GET_API_VERSION with 12. It does not
// prove that a guest runs: ChooseAccel follows it with a trial boot.
func KVMUsable(a arch.Arch) error {
	host, err := arch.Host()
	if err != nil {
		return err
	}
	if a != host {
		return fmt.Errorf("guest %s differs from host %s", a, host)
	}
	if flags := a.Spec().KVMFlags; len(flags) > 0 {
		info, err := os.ReadFile("/proc/cpuinfo")
		if err != nil {
			return fmt.Errorf("read /proc/cpuinfo: %w", err)
		}
		found := false
		for _, f := range flags {
			found = found || hasFlag(string(info), f)
		}
		if !found {
			return fmt.Errorf("CPU has no %s flag (no hardware virtualization exposed)", strings.Join(flags, "/"))
		}
	}
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kvm: %w", err)
	}
	defer unix.Close(fd)
	const kvmGetAPIVersion = 0xAE00
	v, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kvmGetAPIVersion, uintptr(unsafe.Pointer(nil)))
	if errno != 0 {
		return fmt.Errorf("KVM_GET_API_VERSION: %w", errno)
	}
	if v != 12 {
		return fmt.Errorf("KVM API version %d, want 12", v)
	}
	return nil
}

func hasFlag(cpuinfo, flag string) bool {
	for _, line := range strings.Split(cpuinfo, "\n") {
		if !strings.HasPrefix(line, "flags") && !strings.HasPrefix(line, "Features") {
			continue
		}
		if _, rest, ok := strings.Cut(line, ":"); ok {
			for _, f := range strings.Fields(rest) {
				if f == flag {
					return true
				}
			}
		}
	}
	return false
}

// ChooseAccel picks the accelerator for mode ("auto", "kvm" or "tcg"). For
// auto it uses KVM only when KVMUsable passes and trial (a bounded boot of a
// real guest under KVM) succeeds; trial may be nil to skip it, which makes
// auto choose TCG. For kvm it fails when the cheap checks fail.
func ChooseAccel(ctx context.Context, mode string, a arch.Arch, trial func(context.Context) error) (AccelChoice, error) {
	switch mode {
	case "tcg":
		return AccelChoice{AccelTCG, "TCG requested with --accel tcg"}, nil
	case "kvm":
		if err := KVMUsable(a); err != nil {
			return AccelChoice{}, fmt.Errorf("--accel kvm: KVM is not usable: %w (use --accel tcg or auto)", err)
		}
		return AccelChoice{AccelKVM, "KVM requested with --accel kvm"}, nil
	case "auto", "":
	default:
		return AccelChoice{}, fmt.Errorf("invalid --accel %q (valid: auto, kvm, tcg)", mode)
	}
	if err := KVMUsable(a); err != nil {
		return AccelChoice{AccelTCG, "TCG: KVM not usable: " + err.Error()}, nil
	}
	if trial == nil {
		return AccelChoice{AccelTCG, "TCG: KVM trial boot not possible"}, nil
	}
	if err := trial(ctx); err != nil {
		return AccelChoice{AccelTCG, "TCG: KVM trial boot failed: " + err.Error()}, nil
	}
	return AccelChoice{AccelKVM, "KVM: trial boot under KVM succeeded"}, nil
}
