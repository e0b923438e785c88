package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/internal/testenv"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// Runs started in the same second, one after another or at once, get
// directories of their own, named so that they sort by time.
func TestNewRunDirSameSecond(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "lkmtest-out")
	now := time.Date(2025, 1, 2, 15, 4, 5, 0, time.Local)
	a, err := newRunDir(parent, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newRunDir(parent, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(parent, "20250102-150405"); a != want || b != want+"-2" {
		t.Errorf("two runs in one second: %s and %s, want %s and %s-2", a, b, want, want)
	}
	for _, d := range []string{parent, a, b} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, want a 0700 directory", d, err)
		}
	}
	later, err := newRunDir(parent, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if names := []string{a, b, later}; !slices.IsSorted(names) {
		t.Errorf("run directories do not sort by time: %q", names)
	}
	// Several at once (as two lkmtest processes would be): all distinct.
	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]bool{a: true, b: true}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := newRunDir(parent, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || seen[d] {
				t.Errorf("concurrent run directory %q: %v (already taken: %v)", d, err, seen[d])
			}
			seen[d] = true
		}()
	}
	wg.Wait()
}

// An explicit --out may be new or empty; one holding an earlier run's
// results is refused, naming the flag and the way out.
func TestCheckOutReuse(t *testing.T) {
	dir := t.TempDir()
	if err := checkOutReuse(dir); err != nil {
		t.Errorf("empty --out: %v", err)
	}
	if err := checkOutReuse(filepath.Join(dir, "new")); err != nil {
		t.Errorf("new --out: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "results.json"), []byte("{}"), 0o600)
	err := checkOutReuse(dir)
	if err == nil || !strings.Contains(err.Error(), "--out "+dir+" holds the results of an earlier run") || !strings.Contains(err.Error(), "rm -r "+dir) {
		t.Errorf("reused --out: %v", err)
	}
	// Through the CLI: exit 2 before anything is built or booted.
	_, stderr, code := cli(t, "run", "--out", dir, "hello")
	if code != 2 || !strings.Contains(stderr, "holds the results of an earlier run") {
		t.Errorf("run --out <earlier run>: exit %d, %s", code, stderr)
	}
}

// 'lkmtest kernel fragments' lists what lkmtest:NAME can name, and --kconfig
// refuses the rest; neither builds nor boots anything.
func TestKernelFragmentsCLI(t *testing.T) {
	stdout, stderr, code := cli(t, "kernel", "fragments")
	if code != 0 {
		t.Fatalf("kernel fragments: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 1+len(kernelconfigs.Names()) || !strings.HasPrefix(lines[0], "FRAGMENT ") {
		t.Errorf("kernel fragments: want a header and a line per fragment:\n%s", stdout)
	}
	for _, n := range []string{"debug", "kunit"} {
		if !strings.Contains(stdout, "lkmtest:"+n+" ") || !strings.Contains(stdout, kernelconfigs.Description(n)) {
			t.Errorf("kernel fragments lacks lkmtest:%s and its description:\n%s", n, stdout)
		}
	}
	if strings.Contains(stdout, "lkmtest:base") || strings.Contains(stdout, "lkmtest:x86_64") {
		t.Errorf("kernel fragments lists an always-applied fragment:\n%s", stdout)
	}
	for _, c := range []struct{ ref, want string }{
		// Every fragment but those applied always (base, the arches').
		{"lkmtest:nope", `--kconfig: "lkmtest:nope": no such fragment in lkmtest's kernel-configs; known fragments: lkmtest:debug, lkmtest:kasan, lkmtest:kfence, lkmtest:kmemleak, lkmtest:kunit, lkmtest:sched, lkmtest:ubsan`},
		{"lkmtest:base", `--kconfig: "lkmtest:base": kernel-configs/base.config is applied to every kernel already`},
	} {
		_, stderr, code := cli(t, "run", "--out", t.TempDir(), "--kconfig", c.ref, "hello")
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("run --kconfig %s: exit %d, stderr %q; want exit 2 and %q", c.ref, code, stderr, c.want)
		}
	}
}

// 'kernel config --out' with a relative directory configures into it (make
// runs in the source tree with -C: a relative O= used to resolve there and
// fail with "Can't read seed configuration"), and --kconfig lkmtest:NAME
// reaches the .config. It runs make's configure targets, not a build.
func TestKernelConfigRelativeOut(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	src := debianSource(t, "6.1")
	root, err := filepath.Abs("../..") // the CLI runs there (see cliEnv)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cfg")
	rel, err := filepath.Rel(root, out)
	if err != nil || filepath.IsAbs(rel) {
		t.Fatalf("no relative path to %s: %v", out, err)
	}
	stdout, stderr, code := cli(t, "kernel", "config", "--kernel-src", src.Dir, "--kconfig", "lkmtest:debug", "--out", rel)
	if code != 0 || !strings.Contains(stdout, filepath.Join(out, ".config")) {
		t.Fatalf("kernel config --out %s: exit %d\n%s%s", rel, code, stdout, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, ".config")); err != nil || !strings.Contains(string(b), "CONFIG_PROVE_LOCKING=y\n") {
		t.Errorf("%s/.config lacks lkmtest:debug's CONFIG_PROVE_LOCKING=y (err %v)", out, err)
	}
	if _, err := os.Lstat(filepath.Join(src.Dir, rel)); err == nil {
		t.Errorf("kernel config wrote into the source tree: %s", filepath.Join(src.Dir, rel))
	}
}
