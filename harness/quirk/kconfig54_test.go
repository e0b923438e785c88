package quirk_test

import (
	"bufio"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/quirk"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// The 5.4 release CI builds (harness/kbuild/kernelorg.sha256) and the
// tree whose files the 5.4 facts were read from (testdata/kconfig-*.txt).
const (
	release54 = "5.4.302"
	symbols54 = "testdata/kconfig-5.4.301.txt"
)

// kconfigSymbols reads a list made by testdata/kconfig-symbols.sh: its
// header line (where the tree came from) and the set of CONFIG_ names.
func kconfigSymbols(t *testing.T, path string) (string, map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# Kconfig symbols of ") || !strings.Contains(sc.Text(), "made by kconfig-symbols.sh") {
		t.Fatalf("%s: no header line naming its source (regenerate it with testdata/kconfig-symbols.sh)", path)
	}
	header := sc.Text()
	syms := map[string]bool{}
	for sc.Scan() {
		syms["CONFIG_"+sc.Text()] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// A sanity floor: 5.4 defines about 14,000 symbols for x86 and arm64.
	if len(syms) < 10000 || !syms["CONFIG_MODULES"] || !syms["CONFIG_ARM64"] || !syms["CONFIG_X86_64"] {
		t.Fatalf("%s: %d symbols, not a whole kernel's list", path, len(syms))
	}
	return header, syms
}

// fragment parses an embedded kernel-configs fragment.
func fragment(t *testing.T, name string) *kconfig.Config {
	t.Helper()
	text, err := kernelconfigs.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kconfig.Parse("kernel-configs/"+name, text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKconfigOf54 lists, for 5.4.302 on each arch, every option lkmtest's
// fragments request once the quirk table's drops and renames are applied,
// and checks each against the symbols 5.4's Kconfig files define: every
// requested option (set or "is not set") must exist there, or the quirk
// table must drop or rename it. A flavour lkmtest refuses on 5.4 (ubsan,
// kfence) is not requested; its refusal must be justified by a symbol of
// its fragment that 5.4 lacks. olddefconfig on such a tree would lose a
// missing symbol silently until kconfig.Validate's check; this test says
// so before any tree is unpacked.
func TestKconfigOf54(t *testing.T) {
	header, syms := kconfigSymbols(t, symbols54)
	t.Logf("symbols: %s", header)
	for _, a := range []arch.Arch{arch.X86_64, arch.ARM64} {
		q := quirk.For(a, release54)
		always := []*kconfig.Config{fragment(t, "base.config"), fragment(t, a.Spec().ConfigFragment)}
		sets := map[string][]*kconfig.Config{"(always)": always}
		for _, name := range kernelconfigs.Names() {
			f := fragment(t, name+".config")
			if fl, ok := kernelconfigs.FindFlavour(name); ok {
				if why := kernelconfigs.Unsupported([]kernelconfigs.Flavour{fl}, release54); why != "" {
					var missing []string
					for _, o := range f.Options() {
						if !syms[o.Name] {
							missing = append(missing, o.Name)
						}
					}
					if len(missing) == 0 {
						t.Errorf("%s: flavour %s is refused on %s (%s), yet 5.4 has every option of its fragment", a, name, release54, why)
					}
					t.Logf("%s: flavour %s refused on %s (%s); 5.4 lacks %s", a, name, release54, why, strings.Join(missing, ", "))
					continue
				}
			}
			sets[name] = append(slices.Clone(always), f)
		}
		names := slices.Sorted(maps.Keys(sets))
		for _, name := range names {
			frags := sets[name]
			merged := kconfig.Merge(frags...).Without(q.Drop...).Renamed(q.Rename)
			if len(q.Set) > 0 {
				set, err := kconfig.Parse("quirk.Table", strings.Join(q.Set, "\n")+"\n")
				if err != nil {
					t.Fatal(err)
				}
				merged = kconfig.Merge(merged, set)
			}
			var listed []string
			for _, o := range merged.Options() {
				listed = append(listed, o.Name+"="+o.Value)
				if !syms[o.Name] {
					t.Errorf("%s %s +%s: %s (%s) is not a 5.4 Kconfig symbol: add it to a quirk's Drop or Rename (harness/quirk/quirk.go) with the reason, or fix the fragment",
						a, release54, name, o.Name, o.Source)
				}
			}
			t.Logf("%s %s +%s: %d options: %s", a, release54, name, len(listed), strings.Join(listed, " "))
		}
	}
}

// TestQuirkFacts54 checks what each quirk of 5.4.302 says about 5.4's
// Kconfig against the symbol list, and that each names the 5.4 files its
// fact was read from: a dropped option is not a 5.4 symbol (or the quirk
// says why an existing one is dropped), a renamed one is replaced by a
// symbol 5.4 has, and an option it sets is one 5.4 has.
func TestQuirkFacts54(t *testing.T) {
	_, syms := kconfigSymbols(t, symbols54)
	for _, q := range quirk.Table {
		if !q.Kernels.Contains(release54) {
			continue
		}
		if len(q.Files) == 0 {
			t.Errorf("quirk %s applies to %s but names no 5.4 source file (Files)", q.ID, release54)
		}
		for _, f := range q.Files {
			if !strings.Contains(q.Why, f) && !strings.Contains(q.Why, f[strings.LastIndex(f, "/")+1:]) {
				t.Errorf("quirk %s: Files has %s, but Why does not say what it shows", q.ID, f)
			}
		}
		for _, d := range q.Drop {
			if syms[d] && !strings.Contains(q.Why, d+" is dropped") {
				t.Errorf("quirk %s drops %s, which 5.4 has: say why (%q) or keep it", q.ID, d, d+" is dropped")
			}
		}
		if len(q.Set) > 0 {
			set, err := kconfig.Parse(q.ID, strings.Join(q.Set, "\n")+"\n")
			if err != nil {
				t.Fatalf("quirk %s: Set: %v", q.ID, err)
			}
			for _, o := range set.Options() {
				if !syms[o.Name] {
					t.Errorf("quirk %s sets %s, which 5.4 does not have", q.ID, o.Name)
				}
			}
		}
		for from, to := range q.Rename {
			if syms[from] || !syms[to] {
				t.Errorf("quirk %s renames %s to %s; in 5.4 %s exists: %v, %s exists: %v", q.ID, from, to, from, syms[from], to, syms[to])
			}
		}
	}
}

// TestNoQuirkNeeded54 keeps what was checked against 5.4.301's files and
// needs no quirk (see the comment above quirk.Table): no extra make
// variables for GCC 12, and drivers for every QEMU device lkmtest gives a
// guest but pvpanic-pci.
func TestNoQuirkNeeded54(t *testing.T) {
	_, syms := kconfigSymbols(t, symbols54)
	for _, a := range []arch.Arch{arch.X86_64, arch.ARM64} {
		if mv := quirk.For(a, release54).MakeVars; len(mv) > 0 {
			t.Errorf("%s %s: make variables %v; 5.4.301 builds with GCC 12 as it is", a, release54, mv)
		}
	}
	for dev, sym := range map[string]string{"virtio-rng-pci": "CONFIG_HW_RANDOM_VIRTIO", "virtio-serial-pci": "CONFIG_VIRTIO_CONSOLE", "pci host (arm64 virt)": "CONFIG_PCI_HOST_GENERIC"} {
		if !syms[sym] {
			t.Errorf("QEMU's %s: 5.4 has no %s", dev, sym)
		}
	}
	if syms["CONFIG_PVPANIC_PCI"] || !quirk.For(arch.X86_64, release54).NoPanicDevice {
		t.Error("5.4 has no pvpanic-pci driver: the VM must get no pvpanic-pci device")
	}
	if syms["CONFIG_ARM64_MTE"] || !syms["CONFIG_ARM64_PTR_AUTH"] || !syms["CONFIG_ARM64_SVE"] {
		t.Error("the arm64 CPU facts of quirk.Table's comment do not hold for the symbol list")
	}
}
