// Package quirk is the table of what differs between kernel versions on
// each architecture: QEMU CPU models, devices a kernel lacks, config
// symbols renamed or added over time, make variables old kernels need with
// the host's GCC. Code asks For(arch, version) and applies the merged
// result; it never tests versions itself.
package quirk

import (
	"sort"
	"strconv"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// Quirk is one known difference of the kernels in [Since, Before) on Arch.
type Quirk struct {
	// ID names the quirk in logs and metadata.
	ID string
	// Arch limits the quirk to one architecture ("" for all).
	Arch arch.Arch
	// Since and Before bound the kernel versions, half-open ("" unbounded).
	Since, Before string
	// Why is the public fact behind the quirk.
	Why string

	// CPU replaces the arch's QEMU -cpu model under TCG.
	CPU string
	// NoPanicDevice: the kernel has no pvpanic-pci driver, so the VM gets no
	// pvpanic device (a panic still ends it through panic=-1 and -no-reboot,
	// and the console log still names it).
	NoPanicDevice bool
	// Drop lists options of lkmtest's fragments this kernel does not have;
	// they are removed before configuring (else the check after olddefconfig
	// would report them as lost).
	Drop []string
	// Rename maps an option's current name to this kernel's name for it.
	Rename map[string]string
	// MakeVars are extra make variables for kernel and module builds.
	MakeVars []string
}

// Table is every known quirk. Kernels older than 5.4 are refused elsewhere.
var Table = []Quirk{
	{
		ID: "arm64-lpa2", Arch: arch.ARM64, Before: "5.12",
		Why: "QEMU 7.0+ '-cpu max' offers FEAT_LPA2; arm64 kernels before 5.12 mis-detect the page-table format and hang early in boot",
		CPU: "max,lpa2=off",
	},
	{
		ID: "no-pvpanic-pci", Before: "5.12",
		Why:           "the pvpanic-pci driver and CONFIG_PVPANIC_PCI appeared in 5.12 (before, pvpanic was an ACPI/ISA or DT-mmio device only)",
		NoPanicDevice: true, Drop: []string{"CONFIG_PVPANIC", "CONFIG_PVPANIC_PCI"},
	},
	{
		ID: "debug-info-choice", Before: "5.18",
		Why:    "5.18 made debug info a choice (DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT, DWARF4, DWARF5); older kernels have a plain CONFIG_DEBUG_INFO",
		Rename: map[string]string{"CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT": "CONFIG_DEBUG_INFO"},
	},
	{
		ID: "gcc10-fcommon", Before: "5.7",
		Why:      "GCC 10+ defaults to -fno-common, which breaks host tools of older trees (dtc's duplicate yylloc) where the fix was not backported",
		MakeVars: []string{"HOSTCFLAGS=-fcommon"},
	},
	{
		ID: "kfence", Before: "5.12",
		Why:  "KFENCE was merged in 5.12",
		Drop: []string{"CONFIG_KFENCE"},
	},
	{
		ID: "no-kunit", Before: "5.5",
		Why:  "KUnit (lib/kunit, CONFIG_KUNIT) was merged in 5.5",
		Drop: []string{"CONFIG_KUNIT", "CONFIG_KUNIT_DEFAULT_ENABLED"},
	},
	{
		ID: "no-kunit-enable", Since: "5.5", Before: "6.1",
		Why:  "the kunit.enable boot parameter and CONFIG_KUNIT_DEFAULT_ENABLED appeared in 6.1; before, KUnit suites always ran",
		Drop: []string{"CONFIG_KUNIT_DEFAULT_ENABLED"},
	},
}

// Set is the merged effect of the quirks that apply to one arch and version.
type Set struct {
	// IDs are the applied quirks, in table order.
	IDs []string
	// CPU is the -cpu override ("" for the arch default).
	CPU string
	// NoPanicDevice: see Quirk.
	NoPanicDevice bool
	// Drop, Rename and MakeVars: see Quirk.
	Drop     []string
	Rename   map[string]string
	MakeVars []string
}

// For returns the quirks of kernel version on arch.
func For(arch arch.Arch, version string) Set {
	s := Set{Rename: map[string]string{}}
	for _, q := range Table {
		if q.Arch != "" && q.Arch != arch {
			continue
		}
		if q.Since != "" && Compare(version, q.Since) < 0 || q.Before != "" && Compare(version, q.Before) >= 0 {
			continue
		}
		s.IDs = append(s.IDs, q.ID)
		if q.CPU != "" {
			s.CPU = q.CPU
		}
		s.NoPanicDevice = s.NoPanicDevice || q.NoPanicDevice
		s.Drop = append(s.Drop, q.Drop...)
		for k, v := range q.Rename {
			s.Rename[k] = v
		}
		s.MakeVars = append(s.MakeVars, q.MakeVars...)
	}
	sort.Strings(s.Drop)
	return s
}

// Compare compares dotted numeric kernel versions: -1, 0 or 1. Missing
// components count as 0 and a non-numeric suffix ("-rc1") is ignored.
func Compare(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := part(as, i), part(bs, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func part(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	p := parts[i]
	if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
		p = p[:j]
	}
	n, _ := strconv.Atoi(p)
	return n
}
