package arch

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// Arch is a guest architecture, named as the kernel's uname -m names it.
type Arch string

// The supported guest architectures.
const (
	X86_64 Arch = "x86_64"
	ARM64  Arch = "arm64"
)

// ErrUnsupported is wrapped by Parse and Host for an architecture not in
// the table.
var ErrUnsupported = errors.New("unsupported architecture")

// Spec holds everything lkmtest needs to know to build for and boot an
// architecture.
type Spec struct {
	// Aliases are other names users give it (amd64, aarch64).
	Aliases []string
	// GOARCH is Go's name for the arch (host detection, guest agent builds).
	GOARCH string
	// Debian is Debian's name for the arch (apt-get download pkg:ARCH).
	Debian string
	// KernelArch is the value of ARCH= for the kernel build.
	KernelArch string
	// CrossCompile is the CROSS_COMPILE= prefix when the host is not this arch.
	CrossCompile string
	// CrossCC is the C compiler for static user-space helpers when
	// cross-compiling.
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
	// KVMFlags are /proc/cpuinfo flags of which one must be present for KVM
	// to be worth a trial (none: no flag check, /dev/kvm decides).
	KVMFlags []string
	// DebianQEMU, DebianCross and DebianCrossLibc name the Debian packages
	// of the emulator, the cross compiler and the cross C library (static
	// helpers link against it).
	DebianQEMU, DebianCross, DebianCrossLibc string
}

var table = map[Arch]Spec{
	X86_64: {
		Aliases:         []string{"amd64", "x86-64"},
		GOARCH:          "amd64",
		Debian:          "amd64",
		KernelArch:      "x86_64",
		CrossCompile:    "x86_64-linux-gnu-",
		CrossCC:         "x86_64-linux-gnu-gcc",
		ConfigFragment:  "x86_64.config",
		Image:           "arch/x86/boot/bzImage",
		ImageTarget:     "bzImage",
		QEMU:            "qemu-system-x86_64",
		Machine:         "q35",
		Console:         "ttyS0",
		KVMFlags:        []string{"vmx", "svm"},
		DebianQEMU:      "qemu-system-x86",
		DebianCross:     "gcc-x86-64-linux-gnu",
		DebianCrossLibc: "libc6-dev-amd64-cross",
	},
	ARM64: {
		Aliases:         []string{"aarch64"},
		GOARCH:          "arm64",
		Debian:          "arm64",
		KernelArch:      "arm64",
		CrossCompile:    "aarch64-linux-gnu-",
		CrossCC:         "aarch64-linux-gnu-gcc",
		ConfigFragment:  "arm64.config",
		Image:           "arch/arm64/boot/Image",
		ImageTarget:     "Image",
		QEMU:            "qemu-system-aarch64",
		Machine:         "virt",
		CPU:             "max",
		Console:         "ttyAMA0",
		DebianQEMU:      "qemu-system-arm",
		DebianCross:     "gcc-aarch64-linux-gnu",
		DebianCrossLibc: "libc6-dev-arm64-cross",
	},
}

// All lists the supported architectures in a stable order.
func All() []Arch {
	out := make([]Arch, 0, len(table))
	for a := range table {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Parse accepts an architecture name or one of its aliases.
func Parse(s string) (Arch, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, a := range All() {
		if name == string(a) {
			return a, nil
		}
		for _, alias := range table[a].Aliases {
			if name == alias {
				return a, nil
			}
		}
	}
	var names []string
	for _, a := range All() {
		names = append(names, string(a))
	}
	return "", fmt.Errorf("%w %q (valid: %s)", ErrUnsupported, s, strings.Join(names, ", "))
}

// Spec returns the table entry of a; a is assumed valid (from Parse).
func (a Arch) Spec() Spec { return table[a] }

// ForGOARCH is the architecture Go calls goarch, if the table has it.
func ForGOARCH(goarch string) (Arch, error) {
	for _, a := range All() {
		if table[a].GOARCH == goarch {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: this host is %s (lkmtest knows %v)", ErrUnsupported, goarch, All())
}

// Host is the architecture lkmtest itself runs on; it fails on a host the
// table lacks (a riscv64 host has no native guest here).
func Host() (Arch, error) { return ForGOARCH(runtime.GOARCH) }

// Native reports whether a is the host's own architecture (no cross
// compiler needed, KVM possible). On a host the table lacks nothing is.
func (a Arch) Native() bool {
	h, err := Host()
	return err == nil && a == h
}

// CC is the C compiler that builds for a on this host: gcc for the host's
// own arch, the cross compiler otherwise.
func (a Arch) CC() string {
	if a.Native() {
		return "gcc"
	}
	return a.Spec().CrossCC
}

// LibcPackage is the Debian package of the static C library helpers for a
// link against on this host.
func (a Arch) LibcPackage() string {
	if a.Native() {
		return "libc6-dev"
	}
	return a.Spec().DebianCrossLibc
}

// CompilerPackage is the Debian package of CC.
func (a Arch) CompilerPackage() string {
	if a.Native() {
		return "gcc"
	}
	return a.Spec().DebianCross
}
