package quirk

import (
	"slices"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
)

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		arch    arch.Arch
		version string
		ids     []string
		cpu     string
		panic   bool
	}{
		{arch.ARM64, "5.4.302", []string{"arm64-lpa2", "no-pvpanic-pci", "debug-info-choice", "allnoconfig-embedded", "kfence", "no-kunit", "arm64-kmalloc-128"}, "max,lpa2=off", false},
		{arch.X86_64, "5.4.302", []string{"no-pvpanic-pci", "debug-info-choice", "allnoconfig-embedded", "kfence", "no-kunit"}, "", false},
		{arch.X86_64, "5.4.28", []string{"no-pvpanic-pci", "debug-info-choice", "allnoconfig-embedded", "gcc10-fcommon", "kfence", "no-kunit"}, "", false},
		{arch.ARM64, "5.5.13", []string{"arm64-lpa2", "no-pvpanic-pci", "debug-info-choice", "allnoconfig-embedded", "gcc10-fcommon-5.5", "kfence", "no-kunit-enable", "arm64-kmalloc-128"}, "max,lpa2=off", false},
		{arch.ARM64, "5.5.14", []string{"arm64-lpa2", "no-pvpanic-pci", "debug-info-choice", "allnoconfig-embedded", "kfence", "no-kunit-enable", "arm64-kmalloc-128"}, "max,lpa2=off", false},
		{arch.X86_64, "5.15.147", []string{"debug-info-choice", "allnoconfig-embedded", "no-kunit-enable"}, "", true},
		{arch.ARM64, "5.12", []string{"debug-info-choice", "allnoconfig-embedded", "no-kunit-enable", "arm64-kmalloc-128"}, "", true},
		{arch.ARM64, "6.1.192", []string{"arm64-kmalloc-128"}, "", true},
		{arch.ARM64, "6.4.16", []string{"arm64-kmalloc-128"}, "", true},
		{arch.ARM64, "6.5", nil, "", true},
		{arch.X86_64, "6.1.192", nil, "", true},
		{arch.X86_64, "6.12.57", []string{"ubsan-sanitize-all-gone"}, "", true},
	} {
		s := For(tc.arch, tc.version)
		if !slices.Equal(s.IDs, tc.ids) {
			t.Errorf("For(%s, %s).IDs = %v, want %v", tc.arch, tc.version, s.IDs, tc.ids)
		}
		if s.CPU != tc.cpu {
			t.Errorf("For(%s, %s).CPU = %q, want %q", tc.arch, tc.version, s.CPU, tc.cpu)
		}
		if s.NoPanicDevice == tc.panic {
			t.Errorf("For(%s, %s).NoPanicDevice = %v", tc.arch, tc.version, s.NoPanicDevice)
		}
	}
	old := For(arch.X86_64, "5.4.302")
	if !slices.Contains(old.Drop, "CONFIG_PVPANIC_PCI") || old.Rename["CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT"] != "CONFIG_DEBUG_INFO" {
		t.Errorf("5.4 quirks lack the pvpanic drop or the debug-info rename: %+v", old)
	}
	if mv := For(arch.ARM64, "5.4.28").MakeVars; !slices.Contains(mv, "HOSTCFLAGS=-fcommon") {
		t.Errorf("5.4.28 quirks lack HOSTCFLAGS=-fcommon (its dtc defines yylloc twice): %v", mv)
	}
}

func TestKmallocMinAlign(t *testing.T) {
	for _, tc := range []struct {
		arch    arch.Arch
		version string
		want    int
	}{
		{arch.ARM64, "5.4.302", 128},
		{arch.ARM64, "6.1.192", 128},
		{arch.ARM64, "6.5", 0},
		{arch.ARM64, "6.12.57", 0},
		{arch.X86_64, "5.4.302", 0},
		{arch.X86_64, "6.1.192", 0},
	} {
		if got := For(tc.arch, tc.version).KmallocMinAlign; got != tc.want {
			t.Errorf("For(%s, %s).KmallocMinAlign = %d, want %d", tc.arch, tc.version, got, tc.want)
		}
	}
}

// Every entry is well formed: an ID, a reason, a range that is not empty,
// and at least one effect.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, q := range Table {
		if q.ID == "" || q.Why == "" || seen[q.ID] {
			t.Errorf("quirk %+v: needs a unique ID and a Why", q)
		}
		seen[q.ID] = true
		if q.Kernels.Empty() {
			t.Errorf("quirk %s: empty range %v", q.ID, q.Kernels)
		}
		if q.CPU == "" && !q.NoPanicDevice && len(q.Drop) == 0 && len(q.Rename) == 0 && len(q.Set) == 0 && len(q.MakeVars) == 0 && q.KmallocMinAlign == 0 {
			t.Errorf("quirk %s has no effect", q.ID)
		}
	}
}
