package modbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The try-run definitions of 5.4.0 (files), 5.4.301, 6.1 and 6.12 (a
// directory), as the kernels' own files hold them (testdata/tryrun: 6.1
// and 6.12 cut from the Debian trees, 5.4.301 from its
// scripts/Kbuild.include, 5.4.0's from the pre-image of the stable
// backports of f2f02ebd8f38, which turned 5.4.y's into the directory style
// in June 2020; each file's header names its source).
func TestTryRunStyle(t *testing.T) {
	for v, want := range map[string]TryRun{"pre-f2f02ebd8f38": TryRunFiles, "5.4.301": TryRunDir, "6.1": TryRunDir, "6.12": TryRunDir} {
		if got := TryRunStyle(filepath.Join("testdata/tryrun", v)); got != want {
			t.Errorf("%s: style %d, want %d", v, got, want)
		}
	}
	if got := TryRunStyle(t.TempDir()); got != TryRunUnknown {
		t.Errorf("a tree without try-run: style %d, want unknown", got)
	}
	odd := t.TempDir()
	os.MkdirAll(filepath.Join(odd, "scripts"), 0o700)
	os.WriteFile(filepath.Join(odd, "scripts/Makefile.compiler"), []byte("try-run = $(shell $(1) && echo $(2) || echo $(3))\n"), 0o600)
	if got := TryRunStyle(odd); got != TryRunUnknown || probeMemoArgs("/memo", got) != nil {
		t.Errorf("a try-run of another form: style %d; it must get no memo", got)
	}
}

// TestProbeMemoMakefile runs GNU make on Makefiles that use try-run the
// way kbuild does, each kernel's definition with and without the memo
// override of its style: same answers, probes run once, nothing of the
// module directory removed.
func TestProbeMemoMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: apt-get install make")
	}
	for _, c := range []struct {
		name  string
		style TryRun
		defs  string
	}{
		{"6.x directory", TryRunDir, `TMPOUT = $(if $(KBUILD_EXTMOD),$(firstword $(KBUILD_EXTMOD))/).tmp_$$$$
try-run = $(shell set -e; TMP=$(TMPOUT)/tmp; trap "rm -rf $(TMPOUT)" EXIT; mkdir -p $(TMPOUT); if ($(1)) >/dev/null 2>&1; then echo "$(2)"; else echo "$(3)"; fi)`},
		{"5.4.301 directory", TryRunDir, `TMPOUT = $(if $(KBUILD_EXTMOD),$(firstword $(KBUILD_EXTMOD))/).tmp_$$$$
try-run = $(shell set -e; TMP=$(TMPOUT)/tmp; TMPO=$(TMPOUT)/tmp.o; mkdir -p $(TMPOUT); trap "rm -rf $(TMPOUT)" EXIT; if ($(1)) >/dev/null 2>&1; then echo "$(2)"; else echo "$(3)"; fi)`},
		{"5.4.0 files", TryRunFiles, `TMPOUT := $(if $(KBUILD_EXTMOD),$(firstword $(KBUILD_EXTMOD))/)
try-run = $(shell set -e; TMP="$(TMPOUT).$$$$.tmp"; TMPO="$(TMPOUT).$$$$.o"; if ($(1)) >/dev/null 2>&1; then echo "$(2)"; else echo "$(3)"; fi; rm -f "$$TMP" "$$TMPO")`},
	} {
		t.Run(c.name, func(t *testing.T) { testProbeMemo(t, c.style, c.defs) })
	}
}

func testProbeMemo(t *testing.T, style TryRun, defs string) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "mod")
	os.Mkdir(mod, 0o700)
	os.WriteFile(filepath.Join(mod, "keep.c"), nil, 0o600)
	memo := filepath.Join(dir, "memo")
	os.Mkdir(memo, 0o700)
	mk := "comma := ,\nKBUILD_EXTMOD := " + mod + "\n" + defs + `
A := $(call try-run,echo ran >> count && printf '%s' 'quoted$(comma) with comma' > "$$TMP" && test -f "$$TMP",-fyes,-fno)
B := $(call try-run,echo ran >> count && false,-fyes,-fno)
all:
	@echo "A=$(A) B=$(B)"
`
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("make", append([]string{"-s", "-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("make: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	plain := run()
	if plain != "A=-fyes B=-fno" {
		t.Fatalf("plain make = %q", plain)
	}
	args := probeMemoArgs(memo, style)
	os.WriteFile(filepath.Join(memo, "probes"), nil, 0o600)
	for i := 0; i < 3; i++ {
		if got := run(args...); got != plain {
			t.Fatalf("memoized run %d = %q, want %q", i, got, plain)
		}
	}
	count, _ := os.ReadFile(filepath.Join(dir, "count"))
	// 2 probes in the plain run + 2 in the first memoized run, none after.
	if n := strings.Count(string(count), "ran"); n != 4 {
		t.Errorf("probe commands ran %d times, want 4", n)
	}
	if b, _ := os.ReadFile(filepath.Join(memo, "probes")); len(strings.Fields(string(b))) != 2 {
		t.Errorf("memo holds %q, want 2 answers", b)
	}
	if _, err := os.Stat(filepath.Join(mod, "keep.c")); err != nil {
		t.Errorf("the module directory lost its files: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(mod, ".*"))
	left2, _ := filepath.Glob(filepath.Join(mod, "*.tmp"))
	if len(left)+len(left2) > 0 {
		t.Errorf("temporary files left: %v %v", left, left2)
	}
}

func TestProbeMemoArgRefusesUnsafeDirs(t *testing.T) {
	for _, d := range []string{"", "/a b", "/it's", "/x$y", "/a;b"} {
		if probeMemoArgs(d, TryRunDir) != nil {
			t.Errorf("probeMemoArg(%q) should refuse the directory", d)
		}
	}
	if probeMemoArgs("/home/u/.cache/lkmtest/probes/abc", TryRunDir) == nil {
		t.Error("a plain directory must be accepted")
	}
}
