package main

// The fault matrix: lkmtest under the faults users cause or meet (issue
// #7). Each test runs the real CLI, with real kernels and QEMU.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

// proc is an lkmtest process started in the background.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	stdout bytes.Buffer
	lines  chan string // stderr lines
	done   chan struct{}
	peak   int64 // highest VmHWM seen, kB
}

// start runs lkmtest from the repository root with env added.
func start(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" && !slicesHasPrefix(args, "--cache-dir") {
		args = append([]string{"--cache-dir", c}, args...)
	}
	p := &proc{cmd: exec.Command(lkmtestBin, args...), lines: make(chan string, 1000), done: make(chan struct{})}
	p.cmd.Dir = "../.."
	p.cmd.Env = append(append(os.Environ(), "GITHUB_ACTIONS="), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.Stdout = &lockedBuffer{mu: &p.mu, b: &p.stdout}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() {
		// The peak memory of lkmtest itself (not of QEMU, its child).
		for {
			select {
			case <-p.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if kb := vmHWM(p.cmd.Process.Pid); kb > p.peak {
				p.mu.Lock()
				p.peak = kb
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.wait(10 * time.Second)
	})
	return p
}

func slicesHasPrefix(args []string, s string) bool {
	for _, a := range args {
		if a == s {
			return true
		}
	}
	return false
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// vmHWM is a process's peak resident set, in kB (0 once it is gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// waitFor waits for a stderr line containing s.
func (p *proc) waitFor(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("lkmtest ended before printing %q:\n%s", s, p.errText())
			}
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", s, timeout, p.errText())
		}
	}
}

// wait waits for the process and returns its exit status (-1: killed or
// still running after timeout).
func (p *proc) wait(timeout time.Duration) int {
	ch := make(chan error, 1)
	go func() { ch <- p.cmd.Wait() }()
	select {
	case err := <-ch:
		select {
		case <-p.done:
		default:
			close(p.done)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			return -1
		}
		return 0
	case <-time.After(timeout):
		return -1
	}
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) outText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// qemuOf returns the pid of the QEMU whose command line mentions dir.
func qemuOf(dir string) int {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err == nil && strings.HasPrefix(filepath.Base(string(bytes.SplitN(b, []byte{0}, 2)[0])), "qemu-system") && bytes.Contains(b, []byte(dir)) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(c)))
			return pid
		}
	}
	return 0
}

// TestFaultInterrupt: Ctrl-C (SIGINT) in the middle of a test. lkmtest
// exits 130 within seconds, its QEMU is gone, its temporary directories
// are removed, and results.json says the run was interrupted.
func TestFaultInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	out, tmp := t.TempDir(), t.TempDir()
	p := start(t, []string{"TMPDIR=" + tmp}, "run", "--out", out, "harness/testdata/modules/hang-init")
	p.waitFor(t, "run fixture-hang-init on", 5*time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for qemuOf(out) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if qemuOf(out) == 0 {
		t.Fatalf("no QEMU started for %s", out)
	}
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code := p.wait(10 * time.Second)
	took := time.Since(sent)
	if code != 130 {
		t.Fatalf("exit %d after SIGINT (%s), want 130\n%s", code, took, p.errText())
	}
	if pid := qemuOf(out); pid != 0 {
		t.Errorf("QEMU %d still runs after lkmtest exited", pid)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	rep, err := report.ReadJSON(out)
	if err != nil || !rep.Interrupted {
		t.Errorf("results.json after SIGINT: %v, interrupted=%v", err, rep != nil && rep.Interrupted)
	}
	if !strings.Contains(p.errText(), "interrupted") {
		t.Errorf("no 'interrupted' on stderr:\n%s", p.errText())
	}
	t.Logf("SIGINT to exit: %s", took)
}

// TestFaultQEMUKilled: QEMU killed from outside (kill -9) mid-test is LOST,
// reported within 2 s of the kill.
func TestFaultQEMUKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	for _, arch := range []string{"x86_64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			out := t.TempDir()
			p := start(t, nil, "run", "--out", out, "--arch", arch, "harness/testdata/modules/hang-init")
			// The test's own VM: one QEMU that stays for a second (the
			// module hangs in its init); a snapshot's QEMU comes and goes.
			deadline := time.Now().Add(5 * time.Minute)
			var pid int
			for time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				if pid = qemuOf(out); pid == 0 {
					continue
				}
				time.Sleep(time.Second)
				if qemuOf(out) == pid {
					break
				}
				pid = 0
			}
			if pid == 0 {
				t.Fatalf("no QEMU started:\n%s", p.errText())
			}
			killed := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			code := p.wait(30 * time.Second)
			took := time.Since(killed)
			rep, err := report.ReadJSON(out)
			if err != nil || len(rep.Results) != 1 {
				t.Fatalf("results: %v\n%s", err, p.errText())
			}
			if r := rep.Results[0]; r.Outcome != verdict.Lost || code != 1 {
				t.Errorf("killed QEMU: exit %d, %s %s; want exit 1 and LOST", code, r.Outcome, r.Reason)
			}
			if took > 2*time.Second {
				t.Errorf("LOST reported %s after the kill, want within 2s", took)
			}
			t.Logf("kill to verdict (lkmtest's exit): %s", took)
		})
	}
}

// TestFaultPanic: a guest kernel panic is CRASH with the panic's title,
// found as it happens rather than at the test's timeout (60 s).
func TestFaultPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	out := t.TempDir()
	stdout, stderr, code := cli(t, "run", "--out", out, "harness/testdata/modules/crash-panic")
	rep, err := report.ReadJSON(out)
	if err != nil || len(rep.Results) != 1 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	r := rep.Results[0]
	var titles []string
	for _, c := range r.Crashes {
		titles = append(titles, c.Title)
	}
	if code != 1 || r.Outcome != verdict.Crash || !strings.Contains(strings.ToLower(strings.Join(titles, "; ")), "kernel panic") {
		t.Errorf("panic: exit %d, %s %s, crashes %v", code, r.Outcome, r.Reason, titles)
	}
	if d := time.Duration(r.DurationNS); d > 15*time.Second {
		t.Errorf("panic found after %s: the timeout was waited for", d)
	}
}

// TestFaultFlood: a module printing 200,000 lines. The verdict is right
// (its last line is found) and lkmtest's own memory stays under 200 MB.
func TestFaultFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	out := t.TempDir()
	p := start(t, nil, "run", "--out", out, "harness/testdata/modules/flood")
	code := p.wait(10 * time.Minute)
	rep, err := report.ReadJSON(out)
	if err != nil || len(rep.Results) != 1 || code != 0 || rep.Results[0].Outcome != verdict.Pass {
		t.Fatalf("flood: exit %d, %v\n%s\n%s", code, err, p.outText(), p.errText())
	}
	p.mu.Lock()
	peak := p.peak
	p.mu.Unlock()
	if peak == 0 || peak > 200*1024 {
		t.Errorf("lkmtest's peak RSS during the flood: %d kB, want (0, 200 MB]", peak)
	}
	t.Logf("peak RSS of lkmtest during a 200,000-line flood: %.1f MB", float64(peak)/1024)
}

// TestFaultMetachars: module parameters, program arguments and written
// data with shell metacharacters arrive literally (the fixture's spec
// checks what the kernel and a helper received).
func TestFaultMetachars(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	stdout, stderr, code := cli(t, "run", "--out", t.TempDir(), "--arch", "x86_64,arm64", "harness/testdata/modules/metachars")
	if code != 0 || !strings.Contains(stdout, "2 passed, 0 failed") {
		t.Errorf("metachars: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestFaultPermissions: the run directory and everything lkmtest writes in
// it is its owner's only (0700 directories, 0600 files); nothing in the
// cache is world-writable.
func TestFaultPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := cli(t, "run", "--out", out, "hello"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	var files int
	_ = filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		files++
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want 0600/0700", p, fi.Mode().Perm())
		}
		return nil
	})
	if files < 8 {
		t.Errorf("only %d files in the run directory", files)
	}
	root := os.Getenv("LKMTEST_CACHE_DIR")
	if root == "" {
		var err error
		if root, err = cacheRoot(); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(root); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("cache %s: %v, want mode 0700", root, st.Mode().Perm())
	}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil // a concurrent test's temporary entry went away
		}
		if d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o002 != 0 {
			t.Errorf("world-writable in the cache: %s (%v)", p, fi.Mode().Perm())
		}
		return nil
	})
}

func cacheRoot() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "lkmtest"), nil
	}
	home, err := os.UserHomeDir()
	return filepath.Join(home, ".cache", "lkmtest"), err
}

// sharedCache is a fresh cache directory whose entries of the given kinds
// are those of the test cache (symlinked): a test can rebuild, say, the
// initramfs parts from nothing without rebuilding kernels.
func sharedCache(t *testing.T, kinds ...string) string {
	t.Helper()
	real := os.Getenv("LKMTEST_CACHE_DIR")
	if real == "" {
		var err error
		if real, err = cacheRoot(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, k := range kinds {
		if err := os.MkdirAll(filepath.Join(real, k), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(real, k), filepath.Join(dir, k)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// complete lists the published entries of a cache kind.
func complete(t *testing.T, cacheDir, kind string) []string {
	t.Helper()
	marks, _ := filepath.Glob(filepath.Join(cacheDir, kind, "*", ".complete"))
	return marks
}

// TestFaultKillDuringUnpack: kill -9 while the kernel tarball is unpacked.
// No entry is published; the next run removes the leftovers and unpacks a
// whole tree.
func TestFaultKillDuringUnpack(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a kernel: skipped with -short")
	}
	cd := t.TempDir()
	p := start(t, nil, "--cache-dir", cd, "kernel", "src", "--kernel", "6.1")
	p.waitFor(t, "unpacking", time.Minute)
	time.Sleep(3 * time.Second)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	if got := complete(t, cd, "src"); len(got) != 0 {
		t.Fatalf("an entry was published by the killed run: %v", got)
	}
	left, _ := filepath.Glob(filepath.Join(cd, "src", "*.tmp-*"))
	if len(left) == 0 {
		t.Fatalf("the kill came too late: nothing half-unpacked to clean up")
	}
	stdout, stderr, code := cli(t, "--cache-dir", cd, "kernel", "src", "--kernel", "6.1")
	if code != 0 {
		t.Fatalf("the next run: exit %d\n%s", code, stderr)
	}
	tree := strings.TrimSpace(stdout)
	ref, _, _ := cli(t, "kernel", "src", "--kernel", "6.1")
	if n, want := countFiles(tree), countFiles(strings.TrimSpace(ref)); n != want || n < 50000 {
		t.Errorf("the tree unpacked after the kill has %d files, the reference %d", n, want)
	}
	if left, _ := filepath.Glob(filepath.Join(cd, "src", "*.tmp-*")); len(left) != 0 {
		t.Errorf("leftovers of the killed run remain: %v", left)
	}
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(string, os.DirEntry, error) error { n++; return nil })
	return n
}

// TestFaultKillDuringPacking: kill -9 while the initramfs parts (the u-root
// base image) are built; the next run builds them again and passes.
func TestFaultKillDuringPacking(t *testing.T) {
	if testing.Short() {
		t.Skip("VM test: skipped with -short")
	}
	cd := sharedCache(t, "src", "kernels", "probes", "memo")
	p := start(t, nil, "--cache-dir", cd, "run", "--out", t.TempDir(), "hello")
	p.waitFor(t, "building the u-root base image", 5*time.Minute)
	time.Sleep(2 * time.Second)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	if got := complete(t, cd, "base"); len(got) != 0 {
		t.Fatalf("the killed run published a base image: %v", got)
	}
	stdout, stderr, code := cli(t, "--cache-dir", cd, "run", "--out", t.TempDir(), "hello")
	if code != 0 || !strings.Contains(stdout, "1 passed") {
		t.Fatalf("the next run: exit %d\n%s%s", code, stdout, stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(cd, "base", "*.tmp-*")); len(left) != 0 {
		t.Errorf("leftovers remain: %v", left)
	}
}

// TestFaultKillDuringBuildThenTwoRuns: kill -9 during a kernel build, then
// two runs at once on that kernel config: exactly one builds it (the other
// waits and reuses it), both pass, and nothing of the killed build is used.
// The config is one of this test's own (a fragment), so the build is real.
func TestFaultKillDuringBuildThenTwoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a kernel: skipped with -short")
	}
	cd := sharedCache(t, "src", "probes", "memo", "base", "agents", "helpers")
	frag := filepath.Join(t.TempDir(), "fault.config")
	if err := os.WriteFile(frag, []byte("# lkmtest fault test: a kernel config of its own\nCONFIG_LOCALVERSION=\"-fault\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, "--cache-dir", cd, "kernel", "build", "--kconfig", frag)
	p.waitFor(t, "not in the cache, building", 5*time.Minute)
	// Kill once make compiles (configuring comes first).
	deadline := time.Now().Add(5 * time.Minute)
	for !compiling(filepath.Join(cd, "kernels")) {
		if time.Now().After(deadline) {
			t.Fatalf("the kernel build did not start compiling:\n%s", p.errText())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(10 * time.Second)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	if got := complete(t, cd, "kernels"); len(got) != 0 {
		t.Fatalf("the killed build published a kernel: %v", got)
	}
	// make died with lkmtest (no orphan keeps writing the entry): at once
	// no make is left to start a command, and the compilers it had
	// started (which kill -9 cannot reach) end with their current file.
	time.Sleep(time.Second)
	var makes []string
	for _, pid := range processesMentioning(filepath.Join(cd, "kernels")) {
		if comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm")); strings.TrimSpace(string(comm)) == "make" {
			makes = append(makes, pid)
		}
	}
	if len(makes) > 0 {
		t.Errorf("make of the killed build still runs: %v", makes)
	}
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		pids := processesMentioning(filepath.Join(cd, "kernels"))
		if len(pids) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Errorf("processes of the killed build still run a minute later: %v", pids)
			break
		}
	}

	a := start(t, nil, "--cache-dir", cd, "run", "--out", t.TempDir(), "--kconfig", frag, "hello")
	b := start(t, nil, "--cache-dir", cd, "run", "--out", t.TempDir(), "--kconfig", frag, "hello")
	codeA, codeB := a.wait(30*time.Minute), b.wait(5*time.Minute)
	builds := strings.Count(a.errText(), "not in the cache, building") + strings.Count(b.errText(), "not in the cache, building")
	if codeA != 0 || codeB != 0 || !strings.Contains(a.outText(), "1 passed") || !strings.Contains(b.outText(), "1 passed") {
		t.Errorf("two runs at once: exit %d and %d\n%s%s\n%s%s", codeA, codeB, a.outText(), a.errText(), b.outText(), b.errText())
	}
	if builds != 1 {
		t.Errorf("%d kernel builds for two runs of one config, want 1", builds)
	}
	if got := complete(t, cd, "kernels"); len(got) != 1 {
		t.Errorf("kernel entries: %v, want one", got)
	}
}

// TestFaultNoSpace: a cache on a tmpfs too small for a kernel tree. The
// error names the directory and says "no space"; nothing is published and
// no temporary entry stays.
func TestFaultNoSpace(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a kernel: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	cd := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", cd).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", cd).Run()
	_, stderr, code := cli(t, "--cache-dir", cd, "kernel", "src", "--kernel", "6.1")
	if code != 2 || !strings.Contains(stderr, "no space left on device in "+cd) {
		t.Errorf("full cache: exit %d, stderr %q; want exit 2 naming %s", code, stderr, cd)
	}
	if got := complete(t, cd, "src"); len(got) != 0 {
		t.Errorf("published on a full disk: %v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(cd, "src", "*.tmp-*")); len(left) != 0 {
		t.Errorf("temporary entries left on the full disk: %v", left)
	}
}

// compiling reports whether a make building a kernel image under dir runs.
func compiling(dir string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err == nil && bytes.HasPrefix(b, []byte("make\x00")) && bytes.Contains(b, []byte(dir)) &&
			(bytes.Contains(b, []byte("bzImage")) || bytes.Contains(b, []byte("Image\x00"))) {
			return true
		}
	}
	return false
}

// processesMentioning lists pids whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, filepath.Base(filepath.Dir(c)))
		}
	}
	return out
}
