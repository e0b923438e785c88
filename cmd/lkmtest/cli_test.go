package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/ktap"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// lkmtestBin is the CLI, built once for these tests.
var lkmtestBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lkmtest-cli-")
	if err != nil {
		panic(err)
	}
	lkmtestBin = filepath.Join(dir, "lkmtest")
	if out, err := exec.Command("go", "build", "-o", lkmtestBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs lkmtest from the repository root and returns stdout, stderr and
// the exit status.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return cliIn(t, nil, args...)
}

// cliIn is cli with standard input.
func cliIn(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	return cliEnv(t, stdin, nil, args...)
}

// cliEnv is cli with standard input and environment variables. The tests
// run outside GitHub Actions' reporting even when CI is GitHub Actions.
func cliEnv(t *testing.T, stdin io.Reader, env []string, args ...string) (string, string, int) {
	t.Helper()
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
		args = append([]string{"--cache-dir", c}, args...)
	}
	cmd := exec.Command(lkmtestBin, args...)
	cmd.Dir = "../.."
	cmd.Stdin = stdin
	cmd.Env = append(append(os.Environ(), "GITHUB_ACTIONS=", "GITHUB_STEP_SUMMARY="), env...)
	// If the test binary dies (a test timeout), lkmtest goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestUsageErrorsExit2(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "test.yaml"), []byte("name: bad\nstpes: []\n"), 0o644)
	badFrag := filepath.Join(t.TempDir(), "bad.config")
	os.WriteFile(badFrag, []byte("CONFIG_X=y\nbogus\n"), 0o644)
	dirty := t.TempDir()
	os.WriteFile(filepath.Join(dirty, "Makefile"), []byte("VERSION = 6\nPATCHLEVEL = 1\n"), 0o644)
	os.WriteFile(filepath.Join(dirty, ".config"), []byte("CONFIG_X=y\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--arch", "sparc", "hello"}, `--arch: unsupported architecture "sparc" (valid: arm64, x86_64)`},
		{[]string{"run", "--kernel", "9.9", "hello"}, `--kernel "9.9": unknown kernel`},
		{[]string{"run", "--kernel", "6.6.99", "hello"}, `no pinned sha256 for linux-6.6.99.tar.xz`},
		{[]string{"run", "--kernel", "4.19.300", "hello"}, `older than 5.4 are not supported`},
		{[]string{"run", "--kernel", "6.1,6.12", "--kernel-sha256", "00", "hello"}, `--kernel-sha256 applies to one kernel.org release`},
		{[]string{"run", "--kernel", "6.1", "--kernel-src", ".", "hello"}, `--kernel and --kernel-src exclude each other`},
		{[]string{"run", "--kernel-src", dirty, "hello"}, `make mrproper`},
		{[]string{"run", "--kernel", "5.4", "hello"}, `name one of its kernel.org releases, e.g. 5.4.302`},
		{[]string{"run", "--kernel", "6.1,9.9", "hello"}, `--kernel "9.9": unknown kernel`},
		{[]string{"kernel", "config", "--kernel-src", "/nonexistent"}, `--kernel-src /nonexistent: not a directory`},
		{[]string{"run", "--kconfig", "/nonexistent.config", "hello"}, `--kconfig: config fragment: open /nonexistent.config`},
		{[]string{"run", "--kconfig", badFrag, "hello"}, badFrag + `:2: not a config line: "bogus"`},
		{[]string{"run", "--accel", "fast", "hello"}, `invalid --accel "fast"`},
		{[]string{"run", "--flavour", "kasn", "hello"}, `--flavour: unknown flavour "kasn" (known: debug, kasan, kfence, kmemleak, ubsan)`},
		{[]string{"run", "no-such-test"}, `no test named "no-such-test"`},
		{[]string{"run", bad}, filepath.Join(bad, "test.yaml") + ":2: field stpes not found"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		_, stderr, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("lkmtest %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

func TestDoctorAndVersion(t *testing.T) {
	out, _, code := cli(t, "version")
	if code != 0 || !strings.HasPrefix(out, "lkmtest ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	out, _, code = cli(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") || !strings.Contains(out, "lkmtest") {
		t.Errorf("completion bash: exit %d, %.80q", code, out)
	}
	out, _, code = cli(t, "doctor")
	if code != 0 && code != 2 {
		t.Errorf("doctor exit %d", code)
	}
	if code == 2 && !strings.Contains(out, "fix: apt-get install -y") {
		t.Errorf("doctor found something missing but printed no fix:\n%s", out)
	}
	if !strings.Contains(out, "QEMU for x86_64") || !strings.Contains(out, "accelerator for x86_64") {
		t.Errorf("doctor output lacks checks:\n%s", out)
	}
}

func TestRunExitCodes(t *testing.T) {
	testenv.NeedsVM(t)
	out, stderr, code := cli(t, "run", "--out", t.TempDir(), "hello")
	if code != 0 || !strings.Contains(out, "PASS    hello [6.1") || !strings.Contains(out, "1 passed, 0 failed, 0 skipped") {
		t.Fatalf("run hello: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	out, stderr, code = cli(t, "run", "--out", t.TempDir(), "harness/testdata/modules/missing-line")
	if code != 1 || !strings.Contains(out, "FAIL    fixture-missing-line") || !strings.Contains(out, "at harness/testdata/modules/missing-line/test.yaml:5") {
		t.Fatalf("run missing-line: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	out, stderr, code = cli(t, "run", "--out", t.TempDir(), "harness/testdata/modules/build-error")
	if code != 1 || !strings.Contains(out, "ERROR   fixture-build-error") ||
		!strings.Contains(out, "harness/testdata/modules/build-error/broken_lkm.c:9:16: error: ‘undeclared_identifier’ undeclared") {
		t.Fatalf("run build-error: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	// Every selected test skipped: nothing ran, which must not look green.
	out, stderr, code = cli(t, "run", "--out", t.TempDir(), "harness/testdata/modules/skip-kasan")
	if code != 3 || !strings.Contains(out, "0 passed, 0 failed, 1 skipped") || !strings.Contains(stderr, "no test ran") {
		t.Fatalf("run skip-kasan: exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	out, stderr, code = cli(t, "run", "--out", t.TempDir(), "--arch", "arm64", "hello")
	if code != 0 || !strings.Contains(out, "PASS    hello [6.1") || !strings.Contains(out, "arm64]") {
		t.Fatalf("run --arch arm64 hello: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	out, _, code = cli(t, "kernel", "build")
	if code != 0 || !strings.HasPrefix(out, "cached linux 6.1") {
		t.Errorf("kernel build after a run: exit %d, %q; want a cache hit", code, out)
	}
}

// The configure stage runs alone on a local tree (--kernel-src) and builds
// out of tree: the tree is the cache's read-only copy of Debian's source,
// so any write into it would fail the command.
func TestKernelSrcConfig(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	src := debianSource(t, "6.1")
	out := t.TempDir()
	stdout, stderr, code := cli(t, "kernel", "config", "--kernel-src", src.Dir, "--out", out)
	if code != 0 || !strings.Contains(stdout, "every requested option present") {
		t.Fatalf("kernel config --kernel-src: exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil || !strings.Contains(string(b), "CONFIG_VIRTIO_CONSOLE=y") {
		t.Errorf("%s/.config lacks CONFIG_VIRTIO_CONSOLE=y (err %v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, ".config")); err == nil {
		t.Errorf("the source tree %s was configured in place", src.Dir)
	}
	if strings.Contains(string(b), "CONFIG_HZ=100\n") {
		t.Fatalf("%s/.config has CONFIG_HZ=100 without the fragment: the check below would prove nothing", out)
	}
	// --kconfig adds a fragment: the option must reach the .config (of a
	// new directory: the one above holds a .config already).
	out = t.TempDir()
	stdout, stderr, code = cli(t, "kernel", "config", "--kconfig", "harness/testdata/modules/boot-config/hz100.config", "--out", out)
	b, err = os.ReadFile(filepath.Join(out, ".config"))
	if code != 0 || err != nil || !strings.Contains(string(b), "CONFIG_HZ=100\n") {
		t.Errorf("kernel config --kconfig hz100.config: exit %d, .config %v, CONFIG_HZ=100 in it: %v\n%s%s", code, err, strings.Contains(string(b), "CONFIG_HZ=100\n"), stdout, stderr)
	}
}

// The matrix of the issue: both arches × both Debian kernels, one table.
// A failing fixture rides along so that the table must tell outcomes apart.
func TestMatrixRun(t *testing.T) {
	testenv.NeedsVM(t)
	out, stderr, code := cli(t, "run", "--out", t.TempDir(), "--arch", "x86_64,arm64", "--kernel", "6.1,6.12",
		"hello", "harness/testdata/modules/missing-line")
	if code != 1 {
		t.Fatalf("matrix run: exit %d, want 1 (one fixture fails)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	lines := strings.Split(out, "\n")
	header := strings.Fields(lines[0])
	want := []string{"TEST", "6.1.", "6.1.", "6.12.", "6.12."}
	if len(header) != len(want) {
		t.Fatalf("table header %q, want 4 cells\n%s", lines[0], out)
	}
	for i, w := range want {
		if !strings.HasPrefix(header[i], w) {
			t.Errorf("header cell %d = %q, want prefix %q", i, header[i], w)
		}
	}
	if !strings.HasSuffix(header[1], "-x86_64") || !strings.HasSuffix(header[2], "-arm64") {
		t.Errorf("header %q: want x86_64 then arm64 for each kernel", lines[0])
	}
	for _, row := range []struct{ name, outcome string }{{"hello", "PASS"}, {"fixture-missing-line", "FAIL"}} {
		found := false
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == row.name {
				found = true
				if n := strings.Count(l, row.outcome); n != 4 {
					t.Errorf("row %q: %d cells %s, want 4", l, n, row.outcome)
				}
			}
		}
		if !found {
			t.Errorf("no table row for %s:\n%s", row.name, out)
		}
	}
	if !strings.Contains(out, "4 passed, 4 failed, 0 skipped") {
		t.Errorf("totals missing:\n%s", out)
	}
}

// newScaffold runs lkmtest new my_first in a new directory and returns it.
func newScaffold(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my_first")
	out, stderr, code := cli(t, "new", "my_first", "--dir", dir)
	if code != 0 || !strings.Contains(out, "created "+dir) {
		t.Fatalf("new: exit %d\n%s%s", code, out, stderr)
	}
	return dir
}

// lkmtest new writes a module directory, refuses to overwrite one and
// refuses a bad name.
func TestNewScaffold(t *testing.T) {
	dir := newScaffold(t)
	for _, f := range []string{"my_first.c", "Kbuild", "test.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("scaffold lacks %s", f)
		}
	}
	if _, stderr, code := cli(t, "new", "my_first", "--dir", dir); code != 2 || !strings.Contains(stderr, "already exists") {
		t.Errorf("new over an existing directory: exit %d, %q", code, stderr)
	}
	if _, stderr, code := cli(t, "new", "Bad-Name"); code != 2 || !strings.Contains(stderr, "lower-case letters") {
		t.Errorf("new Bad-Name: exit %d, %q", code, stderr)
	}
}

// The module lkmtest new scaffolds passes at once, on both arches.
func TestNewScaffoldPasses(t *testing.T) {
	testenv.NeedsVM(t)
	dir := newScaffold(t)
	out, stderr, code := cli(t, "run", "--out", t.TempDir(), "--arch", "x86_64,arm64", dir)
	if code != 0 || !strings.Contains(out, "2 passed, 0 failed") {
		t.Errorf("run the scaffold: exit %d\n%s%s", code, out, stderr)
	}
	// As in a module repository: run from the module's directory, the
	// suite being ".", with lkmtest's checkout named by LKMTEST_SRC.
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(lkmtestBin, "run", "--suite", ".", "--out", t.TempDir(), "--format", "json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LKMTEST_SRC="+repo, "GITHUB_ACTIONS=")
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
		cmd.Args = append(cmd.Args, "--cache-dir", c)
	}
	var stdoutBuf, stderrBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdoutBuf, &stderrBuf
	if err := cmd.Run(); err != nil {
		t.Fatalf("run in the module's own directory: %v\n%s%s", err, stdoutBuf.String(), stderrBuf.String())
	}
	var rep struct {
		Totals struct{ Passed int } `json:"totals"`
	}
	if err := json.Unmarshal(stdoutBuf.Bytes(), &rep); err != nil || rep.Totals.Passed != 1 {
		t.Errorf("--format json from the module's directory: %v\n%s", err, stdoutBuf.String())
	}
}

func TestList(t *testing.T) {
	out, stderr, code := cli(t, "list", "--flat")
	if code != 0 || !strings.HasPrefix(out, "CH  TEST") {
		t.Fatalf("list: exit %d\n%s%s", code, out, stderr)
	}
	// By chapter: hello (4) comes before the OOM test (9) and the mutex test (12).
	h, o, m := strings.Index(out, "hello"), strings.Index(out, "oom-killer"), strings.Index(out, "mutex-interruptible")
	if h < 0 || o < 0 || m < 0 || !(h < o && o < m) {
		t.Errorf("list is not in chapter order:\n%s", out)
	}
	if !strings.Contains(out, "CONFIG_MAGIC_SYSRQ") {
		t.Errorf("list does not show sysrq-oom's requirement:\n%s", out)
	}
}

// The whole book suite passes on both arches and both Debian kernels (the
// lockdep tests on their debug kernel variant); tests that declare one arch
// SKIP on the other.
func TestBookSuite(t *testing.T) {
	testenv.NeedsVM(t)
	specs, err := spec.Find("../../modules")
	if err != nil || len(specs) < 10 {
		t.Fatalf("the book suite has %d tests (%v)", len(specs), err)
	}
	// A test SKIPs on a cell whose arch, release or .config its
	// requirements rule out (a --flavour kasan test, an arm64 layout of one
	// kernel series); one with a kernel variant of its own (boot.config) is
	// judged on arch and release only.
	var hosts []spec.Host
	for _, k := range []string{"6.1", "6.12"} {
		for _, arch := range []string{"x86_64", "arm64"} {
			hosts = append(hosts, defaultKernelHost(t, k, arch))
		}
	}
	skips := 0
	for _, s := range specs {
		r := s.Requires
		if s.Boot.Config != "" {
			r.Config = nil
		}
		for _, h := range hosts {
			if r.Unmet(h) != "" {
				skips++
			}
		}
	}
	out, stderr, code := cli(t, "run", "--out", t.TempDir(), "--arch", "x86_64,arm64", "--kernel", "6.1,6.12")
	want := fmt.Sprintf("%d passed, 0 failed, %d skipped", 4*len(specs)-skips, skips)
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("book suite: exit %d, want %q\nstdout:\n%s\nstderr (last part):\n%s", code, want, out, tailString(stderr, 3000))
	}
}

// defaultKernelHost is what a spec's requirements are checked against on
// the default kernel of a series and arch: its release and .config.
func defaultKernelHost(t *testing.T, kernel, arch string) spec.Host {
	t.Helper()
	out, stderr, code := cli(t, "kernel", "build", "--json", "--kernel", kernel, "--arch", arch)
	var b struct {
		BuildDir string `json:"build_dir"`
		Metadata struct {
			KernelVersion string `json:"kernel_version"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil {
		t.Fatalf("kernel build %s %s: exit %d, %v\n%s", kernel, arch, code, err, stderr)
	}
	text, err := os.ReadFile(filepath.Join(b.BuildDir, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kconfig.Parse(".config", string(text))
	if err != nil {
		t.Fatal(err)
	}
	return spec.Host{Arch: arch, Kernel: b.Metadata.KernelVersion, Config: c.Get, CPUs: runtime.NumCPU()}
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestShell drives 'lkmtest shell' through a pipe on both arches: the
// test's module is in /lkm, commands run, and the end of input (Ctrl-D)
// (also after a failing last command) or poweroff ends the VM with status 0.
func TestShell(t *testing.T) {
	testenv.NeedsVM(t)
	for _, tc := range []struct{ arch, end string }{{"x86_64", "poweroff\n"}, {"arm64", "false\n"}} {
		t.Run(tc.arch, func(t *testing.T) {
			in := "echo shell-$((6*7))\ninsmod /lkm/helloworld_lkm.ko\ncat /proc/modules\n" + tc.end
			stdout, stderr, code := cliIn(t, strings.NewReader(in), "shell", "--arch", tc.arch, "hello")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			// Each output line follows the prompt of its command.
			for _, want := range []string{`(?m)^(\$ )?shell-42\r?$`, `(?m)^(\$ )?helloworld_lkm [0-9]+ 0 - Live `} {
				if !regexp.MustCompile(want).MatchString(stdout) {
					t.Errorf("stdout does not match %s:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, "modules in /lkm: [helloworld_lkm.ko]") {
				t.Errorf("stderr lacks the modules note:\n%s", stderr)
			}
		})
	}
	if _, stderr, code := cliIn(t, strings.NewReader(""), "shell", "no-such-test"); code != 2 || !strings.Contains(stderr, "no-such-test") {
		t.Errorf("shell of an unknown test: exit %d, stderr %q; want 2 naming it", code, stderr)
	}
}

// lineOf returns the 1-based number of the first line of file containing s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

// TestReportsAndShards runs three tests (one passes, one fails an
// expectation, one crashes in its module) as two shards under a simulated
// GitHub Actions, then merges them: every report exists and reads back,
// the annotations point at the failed spec line and at the module source
// line of the WARNING, the step summary is written, and the merged report
// has every test exactly once.
func TestReportsAndShards(t *testing.T) {
	testenv.NeedsVM(t)
	tests := []string{"hello", "harness/testdata/modules/missing-line", "harness/testdata/modules/crash-warn"}
	summary := filepath.Join(t.TempDir(), "summary.md")
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}
	var outs []string
	var annotations string
	ran := map[string]int{}
	for _, shard := range []string{"1/2", "2/2"} {
		out := t.TempDir()
		outs = append(outs, out)
		stdout, stderr, code := cliEnv(t, nil, env, append([]string{"run", "--out", out, "--shard", shard}, tests...)...)
		if code != 0 && code != 1 {
			t.Fatalf("shard %s: exit %d\n%s\n%s", shard, code, stdout, stderr)
		}
		annotations += stdout
		rep, err := report.ReadJSON(out)
		if err != nil {
			t.Fatalf("shard %s: %v", shard, err)
		}
		for _, r := range rep.Results {
			ran[r.Test]++
		}
		if want := 0; rep.OK() != (code == want) {
			t.Errorf("shard %s: exit %d but results.json OK=%v", shard, code, rep.OK())
		}
		b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Suites []struct {
				Tests int `xml:"tests,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 || doc.Suites[0].Tests != len(rep.Results) {
			t.Errorf("shard %s junit.xml: %v %+v", shard, err, doc)
		}
	}
	for _, name := range []string{"hello", "fixture-missing-line", "fixture-crash-warn"} {
		if ran[name] != 1 {
			t.Errorf("%s ran in %d shards, want 1", name, ran[name])
		}
	}
	specLine := lineOf(t, "harness/testdata/modules/missing-line/test.yaml", "- insmod: quiet_lkm")
	warnLine := lineOf(t, "harness/testdata/modules/crashers/crashers.c", "WARN_ON(1);")
	for _, want := range []string{
		fmt.Sprintf("::error file=harness/testdata/modules/missing-line/test.yaml,line=%d,title=FAIL%%3A fixture-missing-line on 6.1.", specLine),
		fmt.Sprintf("::error file=harness/testdata/modules/crashers/crashers.c,line=%d,title=WARNING in fixture-crash-warn on 6.1.", warnLine),
	} {
		if !strings.Contains(annotations, want) {
			t.Errorf("no annotation %q in:\n%s", want, annotations)
		}
	}
	b, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(b), "| fixture-missing-line | ❌ FAIL") || strings.Count(string(b), "### lkmtest") != 2 {
		t.Errorf("step summary (%v):\n%s", err, b)
	}

	merged := t.TempDir()
	stdout, stderr, code := cli(t, "merge", "--out", merged, outs[0], outs[1])
	if code != 1 || !strings.Contains(stdout, "1 passed, 2 failed, 0 skipped (merged 2 runs: 1/2, 2/2)") {
		t.Errorf("merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep, err := report.ReadJSON(merged)
	if err != nil || len(rep.Results) != 3 || rep.Totals.Outcomes[result.Crash] != 1 {
		t.Errorf("merged results.json: %v %+v", err, rep)
	}
	if _, stderr, code := cli(t, "merge", "--out", t.TempDir(), outs[0], outs[0]); code != 2 || !strings.Contains(stderr, "overlapping shards") {
		t.Errorf("merging a shard twice: exit %d, %s", code, stderr)
	}

	// KTAP on stdout, read back by our own parser.
	stdout, _, code = cli(t, "run", "--out", t.TempDir(), "--format", "ktap", "hello", "harness/testdata/modules/missing-line")
	cases := ktap.Parse(strings.Split(stdout, "\n")).Cases()
	slices.SortFunc(cases, func(a, b ktap.Case) int { return strings.Compare(a.Path, b.Path) })
	if code != 1 || len(cases) != 2 || cases[0].Outcome != ktap.Fail || cases[1].Outcome != ktap.Pass ||
		!strings.HasSuffix(cases[0].Path, ".fixture-missing-line") || !strings.HasSuffix(cases[1].Path, ".hello") {
		t.Errorf("--format ktap: exit %d, cases %+v\n%s", code, cases, stdout)
	}
}

// pathWithout returns a PATH directory holding every program of this PATH
// but those named: a machine where they are not installed.
func pathWithout(t *testing.T, missing ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			name := e.Name()
			if slices.Contains(missing, name) {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				continue // an earlier PATH entry wins
			}
			_ = os.Symlink(filepath.Join(d, name), filepath.Join(dir, name))
		}
	}
	return dir
}

// TestMissingTools is the fault matrix's row of missing host pieces: no
// QEMU, no cross compiler, no kernel source. Each is exit 2 with the exact
// command that installs it.
func TestMissingTools(t *testing.T) {
	// With a cold cache the runs resolve (unpack) a kernel before they
	// find the missing piece.
	testenv.NeedsKernelBuild(t)
	cases := []struct {
		name    string
		env     []string
		args    []string
		install string
	}{
		{"no QEMU for x86_64", []string{"PATH=" + pathWithout(t, "qemu-system-x86_64")},
			[]string{"run", "--out", t.TempDir(), "--arch", "x86_64", "hello"}, "apt-get install qemu-system-x86"},
		{"no QEMU for arm64", []string{"PATH=" + pathWithout(t, "qemu-system-aarch64")},
			[]string{"run", "--out", t.TempDir(), "--arch", "arm64", "hello"}, "apt-get install qemu-system-arm"},
		{"no cross compiler", []string{"PATH=" + pathWithout(t, "aarch64-linux-gnu-gcc")},
			[]string{"run", "--out", t.TempDir(), "--arch", "arm64", "hello"}, "apt-get install gcc-aarch64-linux-gnu"},
		{"no kernel source", []string{"LKMTEST_DEBIAN_SRC=" + t.TempDir()},
			[]string{"run", "--out", t.TempDir(), "--kernel", "6.12", "hello"}, "apt-get install linux-source-6.12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliEnv(t, nil, c.env, c.args...)
			if code != 2 || !strings.Contains(stderr, c.install) {
				t.Errorf("exit %d, want 2 with %q\nstdout:\n%s\nstderr:\n%s", code, c.install, stdout, stderr)
			}
		})
	}
}

// debianSource is the cache's unpacked tree of Debian's linux-source-series.
func debianSource(t *testing.T, series string) *kbuild.Source {
	t.Helper()
	c, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := kbuild.ResolveDebian(context.Background(), c, "", series, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
