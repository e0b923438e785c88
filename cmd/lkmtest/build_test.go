package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// The fixtures of the compile-only matrix and the DKMS tests, from the
// repository root (where cli runs lkmtest).
const (
	dkmsDriver    = "harness/testdata/trees/dkms-driver"
	dkmsBroken    = "harness/testdata/trees/dkms-broken"
	dkmsExclusive = "harness/testdata/trees/dkms-exclusive"
	// dkmsBrokenLine is the line of dkms-broken's compiler error.
	dkmsBrokenLine = 13
)

// What 'lkmtest build' arguments name: a DKMS package, a directory with a
// test.yaml, a module directory, a suite of tests, a test.yaml.
func TestBuildUnits(t *testing.T) {
	root, _ := filepath.Abs("../..")
	in := func(p string) string { return filepath.Join(root, p) }
	cases := []struct {
		arg   string
		names []string
		file  string
	}{
		{in(dkmsDriver), []string{"dkms-driver"}, in(dkmsDriver + "/test.yaml")},
		{in(dkmsBroken), []string{"dkms-broken"}, in(dkmsBroken + "/dkms.conf")},
		{in(dkmsBroken + "/dkms.conf"), []string{"dkms-broken"}, in(dkmsBroken + "/dkms.conf")},
		{in("harness/testdata/trees/nospec"), []string{"nospec"}, in("harness/testdata/trees/nospec/Kbuild")},
		{in("harness/testdata/trees/subdir/test.yaml"), []string{"tree-subdir"}, ""},
		{in("harness/testdata/trees/symdep"), []string{"tree-symdep"}, ""},
	}
	for _, c := range cases {
		us, err := buildUnits([]string{c.arg})
		if err != nil {
			t.Errorf("%s: %v", c.arg, err)
			continue
		}
		var names []string
		for _, u := range us {
			names = append(names, u.spec.Name)
			if u.spec.Helpers != nil {
				t.Errorf("%s: helpers are built in a compile-only matrix", c.arg)
			}
		}
		if strings.Join(names, ",") != strings.Join(c.names, ",") || (c.file != "" && us[0].file != c.file) {
			t.Errorf("%s: units %v (file %s), want %v (%s)", c.arg, names, us[0].file, c.names, c.file)
		}
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "dkms.conf"), []byte("PACKAGE_NAME=x\nPACKAGE_VERSION=1\n\nwget http://x\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{bad}, filepath.Join(bad, "dkms.conf") + ":4: wget:"},
		{[]string{t.TempDir()}, "has no Kbuild, Makefile, dkms.conf or test.yaml"},
		{[]string{in("go.mod")}, "go.mod is a file"},
		{[]string{in(dkmsBroken), in(dkmsBroken)}, `two directories give the name "dkms-broken"`},
	} {
		if _, err := buildUnits(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// One annotation per distinct compiler error, naming every cell that had
// it, at its file:line relative to the workspace; a warning per distinct
// warning; an error that is not the compiler's at the directory's file.
func TestBuildAnnotations(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "drv", "src", "bad.c")
	warnDir := filepath.Join(root, "out", "w")
	os.MkdirAll(filepath.Join(warnDir, "build", "0-drv"), 0o700)
	os.WriteFile(filepath.Join(warnDir, "build", "0-drv", "build.log"),
		[]byte(filepath.Join(root, "drv/a.c")+":7:5: warning: no previous prototype for ‘f’ [-Wmissing-prototypes]\n"), 0o600)
	reason := src + ":9:2: error: ‘x’ undeclared (first use in this function) (full log: /out/build.log)"
	rep := report.New("test", time.Now(), nil, []result.Test{
		{Test: "drv", File: src, Line: 9, Cell: "6.1.192-x86_64", Kernel: "6.1.192", Arch: "x86_64", Outcome: result.Fail, Reason: reason},
		{Test: "drv", File: src, Line: 9, Cell: "6.12.117-arm64", Kernel: "6.12.117", Arch: "arm64", Outcome: result.Fail, Reason: reason},
		{Test: "other", File: filepath.Join(root, "other", "dkms.conf"), Cell: "6.1.192-x86_64", Outcome: result.Error, Reason: "kernel not prepared: build: make: exit status 2"},
		{Test: "warn", File: filepath.Join(root, "drv", "Kbuild"), Cell: "6.1.192-x86_64", Outcome: result.Pass, Dir: warnDir},
	})
	got := buildAnnotations(rep, root)
	want := []string{
		"::error file=drv/src/bad.c,line=9,title=build error on 6.1.192-x86_64%2C 6.12.117-arm64::error: ‘x’ undeclared (first use in this function)",
		"::error file=other/dkms.conf,title=build error on 6.1.192-x86_64::kernel not prepared: build: make: exit status 2",
		"::warning file=drv/a.c,line=7,title=compiler warning on 6.1.192-x86_64::warning: no previous prototype for ‘f’ [-Wmissing-prototypes]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildUsageErrors(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "dkms.conf"), []byte("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nMAKE[0]=\"make\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--format", "ktap", dkmsDriver}, `--format "ktap": want text or json`},
		{[]string{"build", "--arch", "sparc", dkmsDriver}, `--arch: unsupported architecture "sparc"`},
		{[]string{"build", bad}, "dkms.conf:3:9: reached EOF without closing quote"},
		{[]string{"build", "no-such-test"}, `no test named "no-such-test"`},
	} {
		_, stderr, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("lkmtest %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

// The compile-only matrix on 6.1 and 6.12, both arches, of the DKMS
// fixtures: the driver's two modules built in every cell; the broken
// package's first error at its file:line in results.json and as the one
// annotation; the 6.1-only package SKIP on 6.12 with the directive's
// reason; W=1 on request (its warning is a warning, not a failure).
func TestBuildMatrixDKMS(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	out := filepath.Join(t.TempDir(), "out")
	summary := filepath.Join(t.TempDir(), "summary.md")
	repo, _ := filepath.Abs("../..")
	stdout, stderr, code := cliEnv(t, nil, []string{"GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + repo, "GITHUB_STEP_SUMMARY=" + summary},
		"build", "--kernel", "6.1,6.12", "--arch", "x86_64,arm64", "--out", out, dkmsDriver, dkmsBroken, dkmsExclusive)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (dkms-broken does not compile)\n%s\n%s", code, stdout, stderr)
	}
	rep, err := report.ReadJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cells) != 4 || rep.Totals.Tests != 12 || rep.Totals.Passed != 6 || rep.Totals.Failed != 4 || rep.Totals.Skipped != 2 {
		t.Errorf("cells %v totals %+v, want 4 cells: 6 built, 4 failed, 2 skipped", rep.Cells, rep.Totals)
	}
	brokenSrc := filepath.Join(repo, dkmsBroken, "src", "dkmsbad.c")
	for _, r := range rep.Results {
		switch r.Test {
		case "dkms-driver":
			var kos []string
			for _, s := range r.Steps {
				if _, err := os.Stat(s.Reason); s.Outcome != result.Pass || err != nil {
					t.Errorf("%s: step %s %s, its .ko %q: %v", r.Cell, s.Step, s.Outcome, s.Reason, err)
				}
				kos = append(kos, s.Step)
			}
			if r.Outcome != result.Pass || strings.Join(kos, " ") != "dkmsdrv_client.ko dkmsdrv_core.ko" {
				t.Errorf("dkms-driver on %s: %s %q, modules %v", r.Cell, r.Outcome, r.Reason, kos)
			}
		case "dkms-broken":
			if r.Outcome != result.Fail || r.File != brokenSrc || r.Line != dkmsBrokenLine || r.Stage != result.StageModules ||
				!strings.HasPrefix(r.Reason, fmt.Sprintf("%s:%d:", brokenSrc, dkmsBrokenLine)) || !strings.Contains(r.Reason, "dkmsbad_undeclared") {
				t.Errorf("dkms-broken on %s: %s at %s:%d: %s", r.Cell, r.Outcome, r.File, r.Line, r.Reason)
			}
		case "dkms-exclusive":
			if strings.HasPrefix(r.Kernel, "6.12.") {
				if r.Outcome != result.Skip || !strings.Contains(r.Reason, `BUILD_EXCLUSIVE_KERNEL="^6\.1\." does not match kernel 6.12.117`) {
					t.Errorf("dkms-exclusive on %s: %s %q, want SKIP", r.Cell, r.Outcome, r.Reason)
				}
			} else if r.Outcome != result.Pass || r.Reason != "" {
				t.Errorf("dkms-exclusive on %s: %s %q, want built without warnings (no W=1)", r.Cell, r.Outcome, r.Reason)
			}
		}
	}
	ann := fmt.Sprintf("::error file=%s/src/dkmsbad.c,line=%d,title=build error on 6.1.192-x86_64%%2C 6.1.192-arm64%%2C 6.12.117-x86_64%%2C 6.12.117-arm64::error: ‘dkmsbad_undeclared’ undeclared",
		dkmsBroken, dkmsBrokenLine)
	if strings.Count(stdout, "::error ") != 1 || !strings.Contains(stdout, ann) {
		t.Errorf("annotations: want the one\n%s\nstdout:\n%s", ann, stdout)
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "dkms-broken") {
		t.Errorf("step summary:\n%s", b)
	}

	// W=1: dkms-exclusive's missing prototype is a warning.
	out = filepath.Join(t.TempDir(), "w1")
	stdout, stderr, code = cliEnv(t, nil, []string{"GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + repo},
		"build", "--w1", "--kernel", "6.1", "--arch", "x86_64", "--out", out, dkmsExclusive)
	rep, err = report.ReadJSON(out)
	if code != 0 || err != nil || len(rep.Results) != 1 || !strings.Contains(rep.Results[0].Reason, "dkms-exclusive.c:12:5: warning: no previous prototype for ‘dkmsx_value’") {
		t.Fatalf("--w1: exit %d, %v, %+v\n%s\n%s", code, err, rep, stdout, stderr)
	}
	if !strings.Contains(stdout, "::warning file="+dkmsExclusive+"/dkms-exclusive.c,line=12,") {
		t.Errorf("--w1: no warning annotation:\n%s", stdout)
	}
}

// lkmtest run boots the DKMS fixture (built by its dkms.conf) on 6.1 on
// both arches and its spec passes; a package BUILD_EXCLUSIVE_KERNEL rules
// out is SKIP without booting.
func TestRunDKMS(t *testing.T) {
	testenv.NeedsVM(t)
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := cli(t, "run", "--kernel", "6.1", "--arch", "x86_64,arm64", "--out", out, dkmsDriver)
	if code != 0 || !strings.Contains(stdout, "2 passed, 0 failed, 0 skipped") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	out = filepath.Join(t.TempDir(), "skip")
	stdout, stderr, code = cli(t, "run", "--kernel", "6.12", "--arch", "x86_64", "--out", out, dkmsExclusive)
	rep, err := report.ReadJSON(out)
	if code != 3 || err != nil || len(rep.Results) != 1 || rep.Results[0].Outcome != result.Skip || rep.Results[0].BootNS != 0 ||
		!strings.Contains(rep.Results[0].Reason, "BUILD_EXCLUSIVE_KERNEL") {
		t.Fatalf("exit %d (want 3), %v\n%s\n%s", code, err, stdout, stderr)
	}
}

// BenchmarkPrepareVsBuild reports, for 6.1 and 6.12 on both arches, what
// preparing a kernel (configure + make modules_prepare, the compile-only
// matrix's tree) costs next to its full build (configure + the image and
// modules): each from its cache entry's metadata.json, the two entries of
// one cache key. A missing prepared tree is prepared (a missing full
// build is built: minutes).
func BenchmarkPrepareVsBuild(b *testing.B) {
	testenv.NeedsKernelBuild(b)
	for _, k := range []string{"6.1", "6.12"} {
		for _, a := range []string{"x86_64", "arm64"} {
			b.Run(k+"/"+a, func(b *testing.B) {
				stdout, stderr, code := cliB(b, "kernel", "build", "--json", "--kernel", k, "--arch", a)
				var full struct {
					Dir      string `json:"dir"`
					Metadata struct {
						Key              string  `json:"key"`
						ConfigureSeconds float64 `json:"configure_seconds"`
						BuildSeconds     float64 `json:"build_seconds"`
					} `json:"metadata"`
				}
				if code != 0 || json.Unmarshal([]byte(stdout), &full) != nil {
					b.Fatalf("kernel build: exit %d\n%s\n%s", code, stdout, stderr)
				}
				if _, stderr, code := cliB(b, "build", "--kernel", k, "--arch", a, "--out", filepath.Join(b.TempDir(), "out"), dkmsDriver); code != 0 {
					b.Fatalf("build: exit %d\n%s", code, stderr)
				}
				var prep struct {
					ConfigureSeconds float64 `json:"configure_seconds"`
					BuildSeconds     float64 `json:"build_seconds"`
					Prepared         bool    `json:"prepared"`
				}
				text, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(full.Dir)), "kernels-prepared", full.Metadata.Key, "metadata.json"))
				if err != nil || json.Unmarshal(text, &prep) != nil || !prep.Prepared {
					b.Fatalf("prepared tree of %s: %v", full.Metadata.Key, err)
				}
				fullS := full.Metadata.ConfigureSeconds + full.Metadata.BuildSeconds
				prepS := prep.ConfigureSeconds + prep.BuildSeconds
				b.ReportMetric(prepS, "prepare-s")
				b.ReportMetric(fullS, "full-build-s")
				b.ReportMetric(100*prepS/fullS, "prepare-%-of-build")
				if prepS > fullS/4 {
					b.Errorf("preparing %s %s took %.0fs, more than 25%% of its full build (%.0fs)", k, a, prepS, fullS)
				}
			})
		}
	}
}

// cliB is cli for benchmarks.
func cliB(b *testing.B, args ...string) (string, string, int) {
	b.Helper()
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
		args = append([]string{"--cache-dir", c}, args...)
	}
	cmd := exec.Command(lkmtestBin, args...)
	cmd.Dir = "../.."
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return stdout.String(), stderr.String(), ee.ExitCode()
	} else if err != nil {
		b.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}
