package modbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbeMemoMakefile runs GNU make on a Makefile that uses try-run the
// way kbuild does, with and without the memo override.
func TestProbeMemoMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: apt-get install make")
	}
	dir := t.TempDir()
	memo := filepath.Join(dir, "memo")
	os.Mkdir(memo, 0o700)
	mk := `comma := ,
TMPOUT = .tmp_$$$$
try-run = $(shell set -e; TMP=$(TMPOUT)/tmp; trap "rm -rf $(TMPOUT)" EXIT; mkdir -p $(TMPOUT); if ($(1)) >/dev/null 2>&1; then echo "$(2)"; else echo "$(3)"; fi)
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
	arg := probeMemoArg(memo)
	for i := 0; i < 3; i++ {
		if got := run(arg); got != plain {
			t.Fatalf("memoized run %d = %q, want %q", i, got, plain)
		}
	}
	count, _ := os.ReadFile(filepath.Join(dir, "count"))
	// 2 probes in the plain run + 2 in the first memoized run, none after.
	if n := strings.Count(string(count), "ran"); n != 4 {
		t.Errorf("probe commands ran %d times, want 4", n)
	}
	if entries, _ := os.ReadDir(memo); len(entries) != 2 {
		t.Errorf("memo holds %d entries, want 2", len(entries))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp_*")); len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

func TestProbeMemoArgRefusesUnsafeDirs(t *testing.T) {
	for _, d := range []string{"", "/a b", "/it's", "/x$y", "/a;b"} {
		if probeMemoArg(d) != "" {
			t.Errorf("probeMemoArg(%q) should refuse the directory", d)
		}
	}
	if probeMemoArg("/home/u/.cache/lkmtest/probes/abc") == "" {
		t.Error("a plain directory must be accepted")
	}
}
