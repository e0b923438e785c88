package quirk

import (
	"sort"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kver"
)

// Quirk is one known difference of the kernels in a range on Arch.
type Quirk struct {
	// ID names the quirk in logs and metadata.
	ID string
	// Arch limits the quirk to one architecture ("" for all).
	Arch arch.Arch
	// Kernels are the versions the quirk applies to, half-open.
	Kernels kver.Range
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
	// KmallocMinAlign is the minimum alignment of kmalloc's caches in
	// bytes when the kernel raises it above the slab allocator's own 8:
	// no cache is smaller, and only sizes it divides exist.
	KmallocMinAlign int
}

// Table is every known quirk. Kernels older than 5.4 are refused elsewhere.
var Table = []Quirk{
	{
		ID: "arm64-lpa2", Arch: arch.ARM64, Kernels: kver.Range{Before: "5.12"},
		Why: "QEMU 7.0+ '-cpu max' offers FEAT_LPA2; arm64 kernels before 5.12 mis-detect the page-table format and hang early in boot",
		CPU: "max,lpa2=off",
	},
	{
		ID: "no-pvpanic-pci", Kernels: kver.Range{Before: "5.12"},
		Why:           "the pvpanic-pci driver and CONFIG_PVPANIC_PCI appeared in 5.12 (before, pvpanic was an ACPI/ISA or DT-mmio device only)",
		NoPanicDevice: true, Drop: []string{"CONFIG_PVPANIC", "CONFIG_PVPANIC_PCI"},
	},
	{
		ID: "debug-info-choice", Kernels: kver.Range{Before: "5.18"},
		Why:    "5.18 made debug info a choice (DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT, DWARF4, DWARF5); older kernels have a plain CONFIG_DEBUG_INFO",
		Rename: map[string]string{"CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT": "CONFIG_DEBUG_INFO"},
	},
	{
		ID: "gcc10-fcommon", Kernels: kver.Range{Before: "5.7"},
		Why:      "GCC 10+ defaults to -fno-common, which breaks host tools of older trees (dtc's duplicate yylloc) where the fix was not backported",
		MakeVars: []string{"HOSTCFLAGS=-fcommon"},
	},
	{
		ID: "kfence", Kernels: kver.Range{Before: "5.12"},
		Why:  "KFENCE was merged in 5.12",
		Drop: []string{"CONFIG_KFENCE"},
	},
	{
		ID: "no-kunit", Kernels: kver.Range{Before: "5.5"},
		Why:  "KUnit (lib/kunit, CONFIG_KUNIT) was merged in 5.5",
		Drop: []string{"CONFIG_KUNIT", "CONFIG_KUNIT_DEFAULT_ENABLED"},
	},
	{
		ID: "ubsan-sanitize-all-gone", Kernels: kver.Range{Since: "6.9"},
		Why:  "6.9 removed CONFIG_UBSAN_SANITIZE_ALL: UBSAN instruments everything (modules included) whenever it is on",
		Drop: []string{"CONFIG_UBSAN_SANITIZE_ALL"},
	},
	{
		ID: "no-kunit-enable", Kernels: kver.Range{Since: "5.5", Before: "6.1"},
		Why:  "the kunit.enable boot parameter and CONFIG_KUNIT_DEFAULT_ENABLED appeared in 6.1; before, KUnit suites always ran",
		Drop: []string{"CONFIG_KUNIT_DEFAULT_ENABLED"},
	},
	{
		ID: "arm64-kmalloc-128", Arch: arch.ARM64, Kernels: kver.Range{Before: "6.5"},
		Why: "arm64 before 6.5 sets ARCH_KMALLOC_MINALIGN to ARCH_DMA_MINALIGN (128 bytes, the largest cache line of a DMA-incoherent system): kmalloc's smallest cache is kmalloc-128 and there is no kmalloc-96 or kmalloc-192; " +
			"6.5 decoupled the two (\"mm/slab: decouple ARCH_KMALLOC_MINALIGN from ARCH_DMA_MINALIGN\" and the arm64 commits of the same series, which bounce small unaligned DMA buffers instead)",
		KmallocMinAlign: 128,
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
	// KmallocMinAlign is the largest of the quirks' (0 when none sets it).
	KmallocMinAlign int
}

// For returns the quirks of kernel version on arch.
func For(arch arch.Arch, version string) Set {
	s := Set{Rename: map[string]string{}}
	for _, q := range Table {
		if q.Arch != "" && q.Arch != arch {
			continue
		}
		if !q.Kernels.Contains(version) {
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
		s.KmallocMinAlign = max(s.KmallocMinAlign, q.KmallocMinAlign)
	}
	sort.Strings(s.Drop)
	return s
}
