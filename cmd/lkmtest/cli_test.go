package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
		args = append([]string{"--cache-dir", c}, args...)
	}
	cmd := exec.Command(lkmtestBin, args...)
	cmd.Dir = "../.."
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
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--arch", "sparc", "hello"}, `--arch: unsupported architecture "sparc" (valid: arm64, x86_64)`},
		{[]string{"run", "--kernel", "9.9", "hello"}, `unknown kernel "9.9" for --kernel`},
		{[]string{"run", "--accel", "fast", "hello"}, `invalid --accel "fast"`},
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
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
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
	out, stderr, code = cli(t, "run", "--out", t.TempDir(), "--arch", "arm64", "hello")
	if code != 0 || !strings.Contains(out, "PASS    hello [6.1") || !strings.Contains(out, "arm64]") {
		t.Fatalf("run --arch arm64 hello: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	out, _, code = cli(t, "kernel", "build")
	if code != 0 || !strings.HasPrefix(out, "cached linux 6.1") {
		t.Errorf("kernel build after a run: exit %d, %q; want a cache hit", code, out)
	}
}
