package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
)

// runRoot runs lkmtest in-process and returns stdout and the error.
func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestMatrixTiers: the boot tier is today's kernel x arch x shard matrix;
// the compile tier is kernel x arch over every pinned kernel.org release
// (oldest first) and the Debian series by default, or --compile-kernel;
// --tier all prints both as GITHUB_OUTPUT lines; bad values are errors.
func TestMatrixTiers(t *testing.T) {
	out, err := runRoot(t, "matrix", "--github", "--kernel", "6.1,6.12", "--arch", "x86_64", "--shards", "2")
	if err != nil || strings.TrimSpace(out) != `{"include":[{"kernel":"6.1","arch":"x86_64","shard":"1/2"},{"kernel":"6.1","arch":"x86_64","shard":"2/2"},{"kernel":"6.12","arch":"x86_64","shard":"1/2"},{"kernel":"6.12","arch":"x86_64","shard":"2/2"}]}` {
		t.Errorf("boot tier: %v\n%s", err, out)
	}
	out, err = runRoot(t, "matrix", "--github", "--tier", "compile", "--arch", "x86_64,arm64")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Include []compileEntry }
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("compile tier: %v\n%s", err, out)
	}
	want := len(kbuild.PinnedReleases()) + len(kbuild.DebianVersions)
	if len(m.Include) != 2*want || m.Include[0] != (compileEntry{"5.4.289", "x86_64"}) || m.Include[1] != (compileEntry{"5.4.289", "arm64"}) ||
		m.Include[2*want-1] != (compileEntry{"6.12", "arm64"}) {
		t.Errorf("compile tier: %d jobs %v, want %d: every pinned release oldest first, then the Debian series, x both arches", len(m.Include), m.Include, 2*want)
	}
	out, err = runRoot(t, "matrix", "--github", "--tier", "all", "--kernel", "6.1", "--compile-kernel", "5.10.233,6.6.62", "--arch", "x86_64")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || lines[0] != `boot={"include":[{"kernel":"6.1","arch":"x86_64","shard":"1/1"}]}` ||
		lines[1] != `compile={"include":[{"kernel":"5.10.233","arch":"x86_64"},{"kernel":"6.6.62","arch":"x86_64"}]}` {
		t.Errorf("--tier all: %v\n%s", err, out)
	}
	if out, err = runRoot(t, "matrix", "--tier", "compile", "--kernel", "6.6.62", "--arch", "arm64"); err != nil ||
		!strings.Contains(out, "compile   6.6.62   arm64") || strings.Contains(out, "boot") {
		t.Errorf("--tier compile --kernel: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"--tier", "cold"}, {"--tier", "compile", "--compile-kernel", "6.99.1"}, {"--tier", "all", "--arch", "riscv"}} {
		if _, err := runRoot(t, append([]string{"matrix"}, bad...)...); err == nil {
			t.Errorf("matrix %v: no error", bad)
		}
	}
}

// TestMergeBootAndCompile: 'lkmtest merge' joins a boot run's results.json
// and a compile-only one's (kind build) into one report: the same test on
// the same cell in both is two results, the printed line counts builds
// and tests, the merged results.json keeps the kinds; the same build twice
// is refused.
func TestMergeBootAndCompile(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	cells := []result.Cell{{Kernel: "6.1", Release: "6.1.192", Arch: "x86_64"}}
	rec := func(kind string) result.Test {
		return result.Test{Test: "hello", File: "hello/test.yaml", Cell: "6.1.192-x86_64", Kernel: "6.1.192", Arch: "x86_64",
			Outcome: result.Pass, Kind: kind, DurationNS: int64(time.Second)}
	}
	write := func(name string, r *report.Run) string {
		p := filepath.Join(dir, name)
		if err := writeReports(p, r); err != nil {
			t.Fatal(err)
		}
		return p
	}
	boot := write("boot", report.New("test", t0, cells, []result.Test{rec("")}))
	build := write("build", report.New("test", t0, cells, []result.Test{rec(result.KindBuild)}))
	out, err := runRoot(t, "merge", "--out", filepath.Join(dir, "merged"), boot, build)
	if err != nil || !strings.Contains(out, "2 passed, 0 failed, 0 skipped (merged 2 runs; 1 builds, 1 tests)") {
		t.Errorf("merge: %v\n%s", err, out)
	}
	m, err := report.ReadJSON(filepath.Join(dir, "merged"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != 2 || m.Results[0].Kind != result.KindBuild || m.Results[1].Kind != "" {
		t.Errorf("merged results: %+v", m.Results)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "merged", "results.json"))
	if strings.Count(string(b), `"kind": "build"`) != 1 {
		t.Errorf("merged results.json does not keep one build kind:\n%s", b)
	}
	if _, err := runRoot(t, "merge", "--out", filepath.Join(dir, "twice"), boot, build, build); err == nil || !strings.Contains(err.Error(), "hello (build)") {
		t.Errorf("the build twice: %v", err)
	}
}
