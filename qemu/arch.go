package qemu

import (
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"strings"
)

// Arch is a guest architecture, named as the kernel's uname -m names it.
type Arch string

// The supported guest architectures.
const (
	ArchX86_64 Arch = "x86_64"
	ArchARM64  Arch = "arm64"
)

// ErrUnsupportedArch is wrapped by ParseArch for an architecture not in the table.
var ErrUnsupportedArch = fmt.Errorf("unsupported architecture")

// ArchSpec holds everything lkmtest needs to know to build for and boot an architecture.
type ArchSpec struct {
	// KernelArch is the value of ARCH= for the kernel build.
	KernelArch string
	// CrossCompile is the CROSS_COMPILE= prefix when the host is not this arch.
	CrossCompile string
	// CC is the C compiler for static user-space helpers when cross-compiling.
	CrossCC string
	// ConfigFragment is the name of the kernel-configs fragment for this arch.
	ConfigFragment string
	// Image is the kernel image path relative to the build directory.
	Image string
	// ImageTarget is the make target that produces Image.
	ImageTarget string
	// QEMU is the emulator binary.
	QEMU string
	// Machine is the -machine value.
	Machine string
	// CPU is the -cpu value under TCG ("" for QEMU's default).
	CPU string
	// Console is the kernel console device.
	Console string
	// GOARCH is Go's name for the arch (guest agent builds).
	GOARCH string
	// Debian names the packages that provide the emulator and the cross compiler.
	DebianQEMU, DebianCross string
}

var archs = map[Arch]ArchSpec{
	ArchX86_64: {
		KernelArch:     "x86_64",
		CrossCompile:   "x86_64-linux-gnu-",
		CrossCC:        "x86_64-linux-gnu-gcc",
		ConfigFragment: "x86_64.config",
		Image:          "arch/x86/boot/bzImage",
		ImageTarget:    "bzImage",
		QEMU:           "qemu-system-x86_64",
		Machine:        "q35",
		Console:        "ttyS0",
		GOARCH:         "amd64",
		DebianQEMU:     "qemu-system-x86",
		DebianCross:    "gcc-x86-64-linux-gnu",
	},
	ArchARM64: {
		KernelArch:     "arm64",
		CrossCompile:   "aarch64-linux-gnu-",
		CrossCC:        "aarch64-linux-gnu-gcc",
		ConfigFragment: "arm64.config",
		Image:          "arch/arm64/boot/Image",
		ImageTarget:    "Image",
		QEMU:           "qemu-system-aarch64",
		Machine:        "virt",
		CPU:            "max",
		Console:        "ttyAMA0",
		GOARCH:         "arm64",
		DebianQEMU:     "qemu-system-arm",
		DebianCross:    "gcc-aarch64-linux-gnu",
	},
}

// Archs lists the supported architectures in a stable order.
func Archs() []Arch {
	out := make([]Arch, 0, len(archs))
	for a := range archs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseArch accepts an architecture name and its common aliases
// (amd64, aarch64).
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "x86_64", "amd64", "x86-64":
		return ArchX86_64, nil
	case "arm64", "aarch64":
		return ArchARM64, nil
	}
	names := make([]string, 0, len(archs))
	for _, a := range Archs() {
		names = append(names, string(a))
	}
	return "", fmt.Errorf("%w %q (valid: %s)", ErrUnsupportedArch, s, strings.Join(names, ", "))
}

// Spec returns the table entry of a; a is assumed valid (from ParseArch).
func (a Arch) Spec() ArchSpec { return archs[a] }

// HostArch is the architecture lkmtest itself runs on.
func HostArch() Arch {
	switch runtime.GOARCH {
	case "arm64":
		return ArchARM64
	default:
		return ArchX86_64
	}
}

// Native reports whether a is the host's own architecture (no cross compiler
// needed, KVM possible).
func (a Arch) Native() bool { return a == HostArch() }

// CC is the C compiler that builds for a on this host: gcc for the host's
// own arch, the cross compiler otherwise.
func (a Arch) CC() string {
	if a.Native() {
		return "gcc"
	}
	return a.Spec().CrossCC
}

// CheckInstalled reports, with the install command, when the emulator of
// arch is not on the PATH.
func CheckInstalled(arch Arch) error {
	s := arch.Spec()
	if _, err := exec.LookPath(s.QEMU); err != nil {
		return fmt.Errorf("%s not found: install it with 'apt-get install %s' (or run 'make deps')", s.QEMU, s.DebianQEMU)
	}
	return nil
}
