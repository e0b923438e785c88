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
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/internal/testenv"
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

// waitUntil polls cond until it holds; at the deadline, which only stops
// a hung test, it fails saying what did not happen.
func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
	}
}

// exited reports whether the process has ended (it may not be reaped yet).
func (p *proc) exited() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

// hangLine is what the hang-init fixture's module logs in its init, which
// then never returns: on the console, it proves the test's step runs.
const hangLine = "hang_lkm: init will never return"

// waitConsole waits until the console log of test (in the run directory
// out, any cell) holds line. It fails if lkmtest ends first.
func (p *proc) waitConsole(t testing.TB, out, test, line string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%q on the console of %s", line, test), timeout, func() bool {
		logs, _ := filepath.Glob(filepath.Join(out, "*", test, "console.log"))
		for _, l := range logs {
			if b, err := os.ReadFile(l); err == nil && bytes.Contains(b, []byte(line)) {
				return true
			}
		}
		if p.exited() {
			t.Fatalf("lkmtest ended before %q was on the console of %s:\n%s", line, test, p.errText())
		}
		return false
	})
}

// TestFaultInterrupt: Ctrl-C (SIGINT) in the middle of a test. lkmtest
// exits 130, its QEMU is gone, its temporary directories are removed, and
// results.json says the run was interrupted.
func TestFaultInterrupt(t *testing.T) {
	testenv.NeedsVM(t)
	out, tmp := t.TempDir(), t.TempDir()
	p := start(t, []string{"TMPDIR=" + tmp}, "run", "--out", out, "harness/testdata/modules/hang-init")
	// In the middle of the test: its step runs (the module hangs in init).
	p.waitConsole(t, out, "fixture-hang-init", hangLine, 5*time.Minute)
	if qemuOf(out) == 0 {
		t.Fatalf("no QEMU runs for %s while its step runs", out)
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// A backstop only: lkmtest stops at once (its figure is a benchmark).
	code := p.wait(2 * time.Minute)
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
// judged at the step that was running. It is seen as it happens: a VM
// whose death went unnoticed would be TIMEOUT once the agent stopped
// answering (the step's 5 s timeout). The seconds from the kill to the
// verdict are BenchmarkTimeToVerdict's (harness).
func TestFaultQEMUKilled(t *testing.T) {
	testenv.NeedsVM(t)
	for _, arch := range []string{"x86_64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			out := t.TempDir()
			p := start(t, nil, "run", "--out", out, "--arch", arch, "harness/testdata/modules/hang-init")
			// The test's own VM runs its step: the module hangs in init
			// (a snapshot's QEMU, if one was saved, is gone by then).
			p.waitConsole(t, out, "fixture-hang-init", hangLine, 5*time.Minute)
			pid := qemuOf(out)
			if pid == 0 {
				t.Fatalf("no QEMU runs while the step runs:\n%s", p.errText())
			}
			killed := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			code := p.wait(3 * time.Minute) // a backstop only
			took := time.Since(killed)
			rep, err := report.ReadJSON(out)
			if err != nil || len(rep.Results) != 1 {
				t.Fatalf("exit %d, results: %v\n%s", code, err, p.errText())
			}
			r := rep.Results[0]
			const want = "step 1 (insmod hang_lkm): the VM went away during the step"
			if code != 1 || r.Outcome != result.Lost || !strings.HasPrefix(r.Reason, want) {
				t.Errorf("killed QEMU: exit %d, %s %q; want exit 1 and LOST %q", code, r.Outcome, r.Reason, want)
			}
			if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Lost {
				t.Errorf("steps = %+v, want step 1 LOST", r.Steps)
			}
			t.Logf("kill to verdict (lkmtest's exit): %s", took)
		})
	}
}

// TestFaultPanic: a guest kernel panic is CRASH with the panic's title,
// judged at its step, and found as it happens: the fixture runs here with
// its timeouts raised to an hour, so that a verdict before the backstop
// (minutes) cannot be one given at a timeout. The seconds to the verdict
// are BenchmarkTimeToVerdict's (harness).
func TestFaultPanic(t *testing.T) {
	testenv.NeedsVM(t)
	fixture := filepath.Join(t.TempDir(), "crash-panic")
	copyFixture(t, "crashers", filepath.Join(filepath.Dir(fixture), "crashers"), nil)
	copyFixture(t, "crash-panic", fixture, map[string]string{"timeout: 60s": "timeout: 1h", "timeout: 30s": "timeout: 1h"})
	out := t.TempDir()
	p := start(t, nil, "run", "--out", out, fixture)
	code := p.wait(5 * time.Minute)
	if code == -1 {
		t.Fatalf("no verdict within 5 minutes of a panic (the timeouts are an hour): it was not noticed\n%s", p.errText())
	}
	rep, err := report.ReadJSON(out)
	if err != nil || len(rep.Results) != 1 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, p.outText(), p.errText())
	}
	r := rep.Results[0]
	var titles []string
	for _, c := range r.Crashes {
		titles = append(titles, c.Title)
	}
	if code != 1 || r.Outcome != result.Crash || !strings.Contains(strings.ToLower(strings.Join(titles, "; ")), "kernel panic") {
		t.Errorf("panic: exit %d, %s %s, crashes %v", code, r.Outcome, r.Reason, titles)
	}
	const want = "step 1 (insmod crashers kind=panic): kernel reported "
	if !strings.HasPrefix(r.Reason, want) || !strings.Contains(strings.ToLower(r.Reason), "kernel panic") {
		t.Errorf("reason %q, want %q and the panic", r.Reason, want)
	}
	if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Crash {
		t.Errorf("steps = %+v, want step 1 CRASH", r.Steps)
	}
}

// copyFixture copies the files of harness/testdata/modules/name to dir,
// replacing in test.yaml each key of edits by its value (each must be
// there).
func copyFixture(t *testing.T, name, dir string, edits map[string]string) {
	t.Helper()
	src := filepath.Join("../../harness/testdata/modules", name)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "test.yaml" {
			for old, repl := range edits {
				if !bytes.Contains(b, []byte(old)) {
					t.Fatalf("%s/test.yaml has no %q to replace", src, old)
				}
				b = bytes.ReplaceAll(b, []byte(old), []byte(repl))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFaultFlood: a module printing 200,000 lines. The verdict is right
// (its last line is found) and lkmtest's own memory stays under 200 MB.
func TestFaultFlood(t *testing.T) {
	testenv.NeedsVM(t)
	out := t.TempDir()
	p := start(t, nil, "run", "--out", out, "harness/testdata/modules/flood")
	code := p.wait(10 * time.Minute)
	rep, err := report.ReadJSON(out)
	if err != nil || len(rep.Results) != 1 || code != 0 || rep.Results[0].Outcome != result.Pass {
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
	testenv.NeedsVM(t)
	stdout, stderr, code := cli(t, "run", "--out", t.TempDir(), "--arch", "x86_64,arm64", "harness/testdata/modules/metachars")
	if code != 0 || !strings.Contains(stdout, "2 passed, 0 failed") {
		t.Errorf("metachars: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestFaultPermissions: the run directory and everything lkmtest writes in
// it is its owner's only (0700 directories, 0600 files); nothing in the
// cache is world-writable.
func TestFaultPermissions(t *testing.T) {
	testenv.NeedsVM(t)
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
	if st, err := os.Stat(root); err != nil {
		t.Errorf("cache %s: %v", root, err)
	} else if st.Mode().Perm() != 0o700 {
		t.Errorf("cache %s: mode %v, want 0700", root, st.Mode().Perm())
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
	testenv.NeedsKernelBuild(t)
	cd := t.TempDir()
	p := start(t, nil, "--cache-dir", cd, "kernel", "src", "--kernel", "6.1")
	p.waitFor(t, "unpacking", time.Minute)
	// Kill once part of the tree is written (a kernel has ~80,000 files).
	waitUntil(t, "a half-unpacked tree in "+filepath.Join(cd, "src"), 5*time.Minute, func() bool {
		left, _ := filepath.Glob(filepath.Join(cd, "src", "*.tmp-*"))
		return len(left) > 0 && countFiles(left[0]) > 1000
	})
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
	testenv.NeedsVM(t)
	cd := sharedCache(t, "src", "kernels", "probes", "memo")
	p := start(t, nil, "--cache-dir", cd, "run", "--out", t.TempDir(), "hello")
	p.waitFor(t, "building the u-root base image", 5*time.Minute)
	// Kill once the build has written into its temporary entry.
	waitUntil(t, "the base image's build under way in "+filepath.Join(cd, "base"), 5*time.Minute, func() bool {
		work, _ := filepath.Glob(filepath.Join(cd, "base", "*.tmp-*", "work", "*"))
		return len(work) > 0
	})
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
	testenv.NeedsKernelBuild(t)
	cd := sharedCache(t, "src", "probes", "memo", "base", "agents", "helpers")
	frag := filepath.Join(t.TempDir(), "fault.config")
	if err := os.WriteFile(frag, []byte("# lkmtest fault test: a kernel config of its own\nCONFIG_LOCALVERSION=\"-fault\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, "--cache-dir", cd, "kernel", "build", "--kconfig", frag)
	p.waitFor(t, "not in the cache, building", 5*time.Minute)
	// Kill once make compiles (configuring comes first) and has built
	// some objects.
	kernels := filepath.Join(cd, "kernels")
	waitUntil(t, "the kernel build compiling objects", 10*time.Minute, func() bool {
		return compiling(kernels) && countObjects(kernels) >= 20
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	if got := complete(t, cd, "kernels"); len(got) != 0 {
		t.Fatalf("the killed build published a kernel: %v", got)
	}
	// make died with lkmtest (no orphan keeps writing the entry): no make
	// is left to start a command; an orphan would go on for minutes, and
	// the deadline only stops a hung test. The compilers make had started
	// (which kill -9 cannot reach) end with their current file.
	makes := func() []string {
		var out []string
		for _, pid := range processesMentioning(kernels) {
			if comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm")); strings.TrimSpace(string(comm)) == "make" {
				out = append(out, pid)
			}
		}
		return out
	}
	for end := time.Now().Add(30 * time.Second); len(makes()) > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Errorf("make of the killed build still runs 30 s after the kill: %v", makes())
			break
		}
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
	testenv.NeedsKernelBuild(t)
	if os.Geteuid() != 0 {
		testenv.MustRun(t, "mounting a tmpfs needs root")
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

// countObjects counts the .o files under dir.
func countObjects(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".o") {
			n++
		}
		return nil
	})
	return n
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
