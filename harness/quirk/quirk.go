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
	// Files are the kernel source files that show the fact, as the oldest
	// release line of the range lkmtest supports has them (5.4.301 for a
	// range that reaches 5.4: github.com/unifreq/linux-5.4.y at 101662a61,
	// "up to 5.4.301"), relative to the tree. Why says what each shows.
	Files []string

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
	// Set are config lines, in a fragment's form ("CONFIG_X=y",
	// "# CONFIG_X is not set"), that this kernel needs stated because its
	// allnoconfig would differ from later kernels'; merged after the
	// fragments, and checked after olddefconfig like their options.
	Set []string
	// MakeVars are extra make variables for kernel and module builds.
	MakeVars []string
	// KmallocMinAlign is the minimum alignment of kmalloc's caches in
	// bytes when the kernel raises it above the slab allocator's own 8:
	// no cache is smaller, and only sizes it divides exist.
	KmallocMinAlign int
}

// Table is every known quirk. Kernels older than 5.4 are refused elsewhere.
//
// Checked against 5.4.301's files and needing no row (TestNoQuirkNeeded
// keeps them so): GCC 12 builds 5.4.301 as it is (its Makefile disables
// -Wdangling-pointer, -Wstringop-truncation, -Wzero-length-bounds,
// -Warray-bounds and -Wstringop-overflow itself and sets no -Werror; objtool
// and libsubcmd, built with -Werror, compile clean), QEMU's virtio-rng-pci
// and virtio-serial-pci have 5.4 drivers (CONFIG_HW_RANDOM_VIRTIO,
// CONFIG_VIRTIO_CONSOLE), and on arm64 '-cpu max' needs nothing turned off
// but LPA2: pointer authentication (CONFIG_ARM64_PTR_AUTH, user space only
// in 5.4) and SVE (CONFIG_ARM64_SVE) stay off in lkmtest's allnoconfig
// kernels, so the CPU's features go unused, and QEMU gives MTE only with
// '-machine virt,mte=on', which lkmtest does not ask for (5.4 has no
// ARM64_MTE either). Booted under QEMU 7.2's TCG, 5.4.301 (arm64) prints
// nothing with '-cpu max' and boots on 2 CPUs with '-cpu max,lpa2=off',
// pointer authentication and SVE on in the CPU.
var Table = []Quirk{
	{
		ID: "arm64-lpa2", Arch: arch.ARM64, Kernels: kver.Range{Before: "5.12"},
		Why: "QEMU 7.0+ '-cpu max' offers FEAT_LPA2, so ID_AA64MMFR0_EL1.TGRAN4 reads 1 (4K pages with 52-bit addresses); " +
			"5.4's arch/arm64/kernel/head.S (__enable_mmu) compares that field with ID_AA64MMFR0_TGRAN_SUPPORTED, 0 in arch/arm64/include/asm/sysreg.h, for equality, " +
			"so every CPU takes __no_granule_support and parks in a wfe loop before the console prints anything; " +
			"5.12 made it a range check (\"arm64/mm: Fix __enable_mmu() for new TGRAN range values\"), which 5.4.y never took",
		Files: []string{"arch/arm64/kernel/head.S", "arch/arm64/include/asm/sysreg.h"},
		CPU:   "max,lpa2=off",
	},
	{
		ID: "no-pvpanic-pci", Kernels: kver.Range{Before: "5.12"},
		Why: "the pvpanic-pci driver and CONFIG_PVPANIC_PCI appeared in 5.12 (drivers/misc/pvpanic/); " +
			"5.4's drivers/misc/Kconfig has only CONFIG_PVPANIC, drivers/misc/pvpanic.c, which drives the ACPI (QEMU0001) and DT (qemu,pvpanic-mmio) devices, not QEMU's pvpanic-pci; " +
			"CONFIG_PVPANIC is dropped with it, as the VM gets no pvpanic device to drive",
		Files:         []string{"drivers/misc/Kconfig", "drivers/misc/pvpanic.c"},
		NoPanicDevice: true, Drop: []string{"CONFIG_PVPANIC", "CONFIG_PVPANIC_PCI"},
	},
	{
		ID: "debug-info-choice", Kernels: kver.Range{Before: "5.18"},
		Why: "5.18 made debug info a choice (DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT, DWARF4, DWARF5) that selects DEBUG_INFO; " +
			"in 5.4's lib/Kconfig.debug DEBUG_INFO is a bool of its own (with DEBUG_INFO_DWARF4 beside it) and DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT does not exist",
		Files:  []string{"lib/Kconfig.debug"},
		Rename: map[string]string{"CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT": "CONFIG_DEBUG_INFO"},
	},
	{
		ID: "allnoconfig-embedded", Kernels: kver.Range{Before: "6.1"},
		Why: "5.4's init/Kconfig gives EMBEDDED \"option allnoconfig_y\" and makes it select EXPERT, so allnoconfig turns EXPERT on, " +
			"and every option whose prompt is \"if EXPERT\" then gets n instead of its default y: VM_EVENT_COUNTERS (/proc/vmstat without event counts such as oom_kill), " +
			"BLOCK, AIO, MEMBARRIER, RSEQ, PROC_PAGE_MONITOR, ELF_CORE and more; 6.1's init/Kconfig has EMBEDDED without allnoconfig_y (6.12 has no EMBEDDED), " +
			"so allnoconfig leaves EXPERT off there. Stating EMBEDDED off gives 5.4 the defaults of the 6.x kernels (where EMBEDDED exists and defaults to n, stating it changes nothing)",
		Files: []string{"init/Kconfig"},
		Set:   []string{"# CONFIG_EMBEDDED is not set"},
	},
	{
		ID: "gcc10-fcommon", Kernels: kver.Range{Before: "5.4.29"},
		Why: "GCC 10+ defaults to -fno-common, and dtc's scripts/dtc/dtc-lexer.l defined yylloc a second time (beside the bison parser's), so linking dtc fails (\"multiple definition of `yylloc'\"); " +
			"the fix (\"scripts/dtc: Remove redundant YYLOC global declaration\", in 5.6) came to 5.4.y in 5.4.29 (stable review [PATCH 5.4 095/155], 31 March 2020): " +
			"5.4.301's dtc-lexer.l has no such definition, only scripts/dtc/treesource.c's extern, and its dtc links with GCC 12's default",
		Files:    []string{"scripts/dtc/dtc-lexer.l", "scripts/dtc/treesource.c"},
		MakeVars: []string{"HOSTCFLAGS=-fcommon"},
	},
	{
		ID: "gcc10-fcommon-5.5", Kernels: kver.Range{Since: "5.5", Before: "5.5.14"},
		Why:      "as gcc10-fcommon: 5.5.y took the dtc fix in 5.5.14 (stable review [PATCH 5.5 102/170], 31 March 2020)",
		Files:    []string{"scripts/dtc/dtc-lexer.l"},
		MakeVars: []string{"HOSTCFLAGS=-fcommon"},
	},
	{
		ID: "kfence", Kernels: kver.Range{Before: "5.12"},
		Why:   "KFENCE (mm/kfence, lib/Kconfig.kfence) was merged in 5.12; 5.4's lib/Kconfig.debug sources no Kconfig.kfence",
		Files: []string{"lib/Kconfig.debug"},
		Drop:  []string{"CONFIG_KFENCE"},
	},
	{
		ID: "no-kunit", Kernels: kver.Range{Before: "5.5"},
		Why: "KUnit (lib/kunit, CONFIG_KUNIT) was merged in 5.5; 5.4 has no lib/kunit and no KUNIT symbol " +
			"(5.4.y's stable backports define KUnit tests, lib/Kconfig.debug's SYSCTL_KUNIT_TEST and drivers/rtc/Kconfig's RTC_LIB_KUNIT_TEST, that depend on the missing KUNIT and so can never be set)",
		Files: []string{"lib/Kconfig.debug", "drivers/rtc/Kconfig"},
		Drop:  []string{"CONFIG_KUNIT", "CONFIG_KUNIT_DEFAULT_ENABLED"},
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
		Why: "arm64 before 6.5 sets ARCH_KMALLOC_MINALIGN to ARCH_DMA_MINALIGN (128 bytes, the largest cache line of a DMA-incoherent system): kmalloc's smallest cache is kmalloc-128 and there is no kmalloc-96 or kmalloc-192 " +
			"(5.4: arch/arm64/include/asm/cache.h defines ARCH_DMA_MINALIGN 128, include/linux/slab.h makes it ARCH_KMALLOC_MINALIGN and KMALLOC_MIN_SIZE, " +
			"and mm/slab_common.c's create_kmalloc_caches makes kmalloc-96 only when KMALLOC_MIN_SIZE <= 32 and kmalloc-192 only when it is <= 64); " +
			"6.5 decoupled the two (\"mm/slab: decouple ARCH_KMALLOC_MINALIGN from ARCH_DMA_MINALIGN\" and the arm64 commits of the same series, which bounce small unaligned DMA buffers instead)",
		Files:           []string{"arch/arm64/include/asm/cache.h", "include/linux/slab.h", "mm/slab_common.c"},
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
	// Drop, Rename, Set and MakeVars: see Quirk.
	Drop     []string
	Rename   map[string]string
	Set      []string
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
		s.Set = append(s.Set, q.Set...)
		s.MakeVars = append(s.MakeVars, q.MakeVars...)
		s.KmallocMinAlign = max(s.KmallocMinAlign, q.KmallocMinAlign)
	}
	sort.Strings(s.Drop)
	return s
}
