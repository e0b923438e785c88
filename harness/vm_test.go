package harness

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
	"github.com/lkmtest/lkmtest/initramfs"
	"github.com/lkmtest/lkmtest/internal/testenv"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
	"github.com/lkmtest/lkmtest/qemu"
)

// These tests boot real kernels in QEMU. They build the kernel when it is
// not cached (several minutes, once) and never skip for a missing tool:
// they fail with the install command instead. Only -short skips them
// (testenv.NeedsVM, in accelTarget).

// vmArchs are the architectures every VM test runs on.
var vmArchs = []arch.Arch{arch.X86_64, arch.ARM64}

type preparedTarget struct {
	once sync.Once
	t    *Target
	err  error
}

var (
	targetsMu sync.Mutex
	targets   = map[string]*preparedTarget{}
)

// testTarget prepares the x86_64 6.1 target once for all VM tests.
func testTarget(t testing.TB) *Target { return archTarget(t, arch.X86_64) }

// archTarget prepares the 6.1 target of arch once for all VM tests, in the
// user's cache ($LKMTEST_CACHE_DIR overrides) so make run and make test
// share kernels.
func archTarget(t testing.TB, arch arch.Arch) *Target { return kernelTarget(t, arch, "6.1") }

// kernelTarget prepares the target of arch and kernel once for all VM
// tests, with the accelerator a run chooses (auto: KVM where it works).
func kernelTarget(t testing.TB, arch arch.Arch, kernel string) *Target {
	t.Helper()
	return accelTarget(t, arch, kernel, "auto")
}

// tcgTarget prepares the 6.1 target of arch under TCG, whatever this host
// offers, for what exists only under TCG (snapshots).
func tcgTarget(t testing.TB, arch arch.Arch) *Target {
	t.Helper()
	return accelTarget(t, arch, "6.1", "tcg")
}

// accelTarget prepares the target of arch and kernel with the accelerator
// mode accel (auto, kvm, tcg) once for all VM tests.
func accelTarget(t testing.TB, arch arch.Arch, kernel, accel string) *Target {
	t.Helper()
	return flavourTarget(t, arch, kernel, accel, "")
}

// flavourTarget prepares the target of arch and kernel with the
// accelerator mode accel and the flavours (comma-separated, "" for none)
// once for all VM tests.
func flavourTarget(t testing.TB, arch arch.Arch, kernel, accel, flavours string) *Target {
	t.Helper()
	testenv.NeedsVM(t)
	key := string(arch) + "/" + kernel + "/" + accel + "/" + flavours
	targetsMu.Lock()
	pt := targets[key]
	if pt == nil {
		pt = &preparedTarget{}
		targets[key] = pt
	}
	targetsMu.Unlock()
	pt.once.Do(func() {
		c, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
		if err != nil {
			pt.err = err
			return
		}
		wd, _ := os.Getwd()
		out, err := os.MkdirTemp("", "lkmtest-vmtest-")
		if err != nil {
			pt.err = err
			return
		}
		vmtestDirs = append(vmtestDirs, out)
		o := &Options{Cache: c, Arch: arch, Kernel: kernel, Accel: accel, Out: out,
			Log: testLog{}, SrcRoot: initramfs.SourceRoot(wd)}
		fs, err := kernelconfigs.ParseFlavours(flavours)
		if err != nil {
			pt.err = err
			return
		}
		for _, f := range fs {
			frag, err := ReadFragment(kernelconfigs.Prefix + f.Name)
			if err != nil {
				pt.err = err
				return
			}
			o.Extra = append(o.Extra, frag)
		}
		o.Variant = kernelconfigs.VariantOf(fs)
		pt.t, pt.err = Prepare(context.Background(), o)
	})
	if pt.err != nil {
		t.Fatalf("prepare the %s %s target (accel %s, flavours %q): %v", kernel, arch, accel, flavours, pt.err)
	}
	return pt.t
}

// vmtestDirs are the run directories of the shared targets, removed when
// the tests end.
var vmtestDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range vmtestDirs {
		_ = cache.RemoveAll(d)
	}
	os.Exit(code)
}

// forEachArch runs fn as a subtest per architecture.
func forEachArch(t *testing.T, fn func(t *testing.T, tg *Target)) {
	for _, a := range vmArchs {
		t.Run(string(a), func(t *testing.T) { fn(t, archTarget(t, a)) })
	}
}

type testLog struct{}

func (testLog) Write(p []byte) (int, error) { os.Stderr.Write(p); return len(p), nil }

func runFixture(t testing.TB, tg *Target, dir string) verdict.Result {
	t.Helper()
	s, err := spec.Load(filepath.Join(dir, spec.FileName))
	if err != nil {
		t.Fatal(err)
	}
	r := RunTest(context.Background(), tg, s)
	t.Logf("%s", r.Summary())
	return r
}

func TestVMHelloPasses(t *testing.T) { forEachArch(t, testHelloPasses) }

func testHelloPasses(t *testing.T, tg *Target) {
	r := runFixture(t, tg, "../modules/ch04-hello")
	if r.Outcome != result.Pass {
		t.Fatalf("hello: %s\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
	}
	if len(r.Steps) != 2 || r.Steps[0].Errno != "" || r.Steps[1].Errno != "" {
		t.Fatalf("hello steps = %+v", r.Steps)
	}
	for _, name := range []string{"console.log", "qemu.cmdline", "agent.log", "result.json"} {
		if _, err := os.Stat(filepath.Join(r.Dir, name)); err != nil {
			t.Errorf("artefact missing: %v", err)
		}
	}
}

func TestVMMissingLineFails(t *testing.T) { forEachArch(t, testMissingLineFails) }

func testMissingLineFails(t *testing.T, tg *Target) {
	r := runFixture(t, tg, "testdata/modules/missing-line")
	if r.Outcome != result.Fail {
		t.Fatalf("outcome = %s, want FAIL: %s", r.Outcome, r.Reason)
	}
	if !strings.Contains(r.Reason, "the line that never comes") || r.Line != 5 {
		t.Errorf("reason %q at line %d, want it to name the missing line at test.yaml:5", r.Reason, r.Line)
	}
	// The failed expectation does not stop the test: the module is unloaded.
	if len(r.Steps) != 2 || r.Steps[1].Outcome != result.Pass {
		t.Errorf("steps = %+v, want the rmmod step to run and pass", r.Steps)
	}
}

func TestVMOopsInInitIsCrash(t *testing.T) { forEachArch(t, testOopsInInitIsCrash) }

// An oops in a module's init is CRASH at its step, judged from the agent's
// answer (the step's own reports), and found as it happens: the fixture
// runs with its timeouts raised to an hour, and the backstop is minutes.
// The seconds to the verdict are BenchmarkTimeToVerdict's.
func testOopsInInitIsCrash(t *testing.T, tg *Target) {
	dir := copyFixture(t, "testdata/modules/oops-init", longTimeouts("oops_lkm"))
	r := runFixtureWithin(t, tg, dir, 5*time.Minute)
	if r.Outcome != result.Crash {
		t.Fatalf("outcome = %s, want CRASH: %s", r.Outcome, r.Reason)
	}
	title := map[arch.Arch]string{arch.X86_64: "BUG: kernel NULL pointer dereference",
		arch.ARM64: "unable to handle kernel NULL pointer dereference"}[tg.Options.Arch]
	if want := "step 1 (insmod oops_lkm): kernel reported "; !strings.HasPrefix(r.Reason, want) || !strings.Contains(r.Reason, title) {
		t.Errorf("reason = %q, want %q and the oops title %q", r.Reason, want, title)
	}
	if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Crash {
		t.Fatalf("steps = %+v, want step 1 CRASH", r.Steps)
	}
	reps := r.Steps[0].Reports
	if len(reps) == 0 || reps[0].Func != "oops_lkm_init" || reps[0].Module != "oops_lkm" || !reps[0].Oops {
		t.Fatalf("reports = %+v, want an oops in oops_lkm_init [oops_lkm]", reps)
	}
	// Symbolized: the title names the function, the faulting frame its
	// line (the store through NULL), results.json's crash its source, and
	// the excerpt shows the line beside the frame.
	if want := title + " in oops_lkm_init"; reps[0].Title != want {
		t.Errorf("title %q, want %q", reps[0].Title, want)
	}
	line := lineOf(t, filepath.Join(dir, "oops_lkm.c"), "*target = 42;")
	pc := reps[0].Frames[0]
	if pc.Kind != "pc" || pc.File != "oops_lkm.c" || pc.LineNo != line {
		t.Errorf("faulting frame %+v, want oops_lkm.c:%d", pc, line)
	}
	rec := r.Record()
	src := fmt.Sprintf("oops_lkm.c:%d", line)
	if len(rec.Crashes) == 0 || rec.Crashes[0].Source != src || len(rec.Crashes[0].Frames) == 0 || rec.Crashes[0].Frames[0].Line != line {
		t.Errorf("results.json crashes %+v, want source %s and its frames", rec.Crashes, src)
	}
	if !strings.Contains(strings.Join(r.Excerpt, "\n"), "("+src+")") {
		t.Errorf("the excerpt does not show %s beside the frame:\n%s", src, strings.Join(r.Excerpt, "\n"))
	}
}

// lineOf is the number of the first line of file that contains text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

func TestVMHangInInitIsTimeout(t *testing.T) { forEachArch(t, testHangInInitIsTimeout) }

// A module whose init never returns is TIMEOUT at its step, after the
// step's own timeout (5 s; the test's is 120 s), and leaves no QEMU. How
// long past the step's timeout it comes is BenchmarkTimeToVerdict's.
func testHangInInitIsTimeout(t *testing.T, tg *Target) {
	r := runFixtureWithin(t, tg, "testdata/modules/hang-init", 5*time.Minute)
	if r.Outcome != result.Timeout {
		t.Fatalf("outcome = %s, want TIMEOUT: %s", r.Outcome, r.Reason)
	}
	if want := "step 1 (insmod hang_lkm): did not finish within 5s"; !strings.HasPrefix(r.Reason, want) {
		t.Errorf("reason = %q, want %q", r.Reason, want)
	}
	if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Timeout {
		t.Errorf("steps = %+v, want step 1 TIMEOUT", r.Steps)
	}
	// QEMU is gone: no process still refers to this run's directory.
	if pids := processesMentioning(filepath.Join(tg.Options.Out, tg.Name())); len(pids) > 0 {
		t.Errorf("QEMU processes left after the timeout: %v", pids)
	}
}

// runFixtureWithin is runFixture with a backstop: a run not over after
// backstop is cancelled (and cannot have the outcome it should have).
func runFixtureWithin(t testing.TB, tg *Target, dir string, backstop time.Duration) verdict.Result {
	t.Helper()
	s, err := spec.Load(filepath.Join(dir, spec.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), backstop)
	defer cancel()
	r := RunTest(ctx, tg, s)
	if ctx.Err() != nil {
		t.Errorf("%s: no verdict within %s: the run was cancelled", s.Name, backstop)
	}
	t.Logf("%s", r.Summary())
	return r
}

// longTimeouts are the test.yaml edits of copyFixture that give a fixture
// with one insmod step of mod, and no timeouts of its own, an hour for
// the test and for the step.
func longTimeouts(mod string) map[string]string {
	return map[string]string{"steps:\n": "timeout: 1h\nsteps:\n", "  - insmod: " + mod + "\n": "  - insmod: " + mod + "\n    timeout: 1h\n"}
}

// copyFixture copies the files of the fixture directory src (with no
// subdirectories and no module directories outside it) to a new directory,
// replacing in its test.yaml each key of edits by its value (each must be
// there), and returns the copy.
func copyFixture(t testing.TB, src string, edits map[string]string) string {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == spec.FileName {
			for old, repl := range edits {
				if !strings.Contains(string(b), old) {
					t.Fatalf("%s/%s has no %q to replace", src, spec.FileName, old)
				}
				b = []byte(strings.ReplaceAll(string(b), old, repl))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// processesMentioning lists pids whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, filepath.Base(filepath.Dir(c)))
		}
	}
	return out
}

// A second run of a test starts from the snapshot; the snapshot's boot log
// opens its console log; LKMTEST_NO_SNAPSHOT=1 boots instead; a damaged
// snapshot is dropped and the test still passes by booting.
//
// Snapshots exist under TCG only: the test's targets are TCG ones even
// where KVM works.
func TestSnapshot(t *testing.T) {
	for _, a := range vmArchs {
		t.Run(string(a), func(t *testing.T) { testSnapshot(t, tcgTarget(t, a)) })
	}
}

func testSnapshot(t *testing.T, tg *Target) {
	if tg.Accel.Accel != qemu.AccelTCG || !tg.Snapshots() {
		t.Fatalf("snapshots are off for %s (accel %s, asked tcg): this test needs TCG and snapshots on", tg.Name(), tg.Accel.Accel)
	}
	// A copy of hello whose kernel command line is unique to this run:
	// its snapshot is its own, so damaging it below cannot race with
	// other tests (or other test processes) sharing the cache.
	hello := t.TempDir()
	for _, f := range []string{"helloworld_lkm.c", "Kbuild", "test.yaml"} {
		b, err := os.ReadFile(filepath.Join("../modules/ch04-hello", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "test.yaml" {
			b = append(b, fmt.Sprintf("boot:\n  cmdline: [lkmtest.snapshot_test=%d]\n", time.Now().UnixNano())...)
		}
		if err := os.WriteFile(filepath.Join(hello, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first := runFixture(t, tg, hello) // saves this command line's snapshot
	// A restored VM maps the snapshot's RAM copy-on-write: what its guest
	// writes (a module loaded, a test run) must not reach the file.
	ramBefore := snapshotRAMDigest(t, first.Dir)
	r := runFixture(t, tg, hello)
	if r.Outcome != result.Pass || !r.Snapshot {
		t.Fatalf("second run: %s, snapshot=%v; want PASS from the snapshot", r.Summary(), r.Snapshot)
	}
	if after := snapshotRAMDigest(t, r.Dir); after != ramBefore {
		t.Errorf("the snapshot's RAM file changed while a VM restored from it ran (%s, was %s)", after, ramBefore)
	}
	con, err := os.ReadFile(filepath.Join(r.Dir, "console.log"))
	if err != nil || !strings.Contains(string(con), "Run /init as init process") || !strings.Contains(string(con), "Hello, world") {
		t.Errorf("console.log of a restored VM lacks the boot log or the module's line:\n%s", con)
	}
	cmdline, _ := os.ReadFile(filepath.Join(r.Dir, "qemu.cmdline"))
	if !strings.Contains(string(cmdline), "-incoming") {
		t.Errorf("qemu.cmdline of a restored VM has no -incoming: %s", cmdline)
	}

	tg.NoSnapshots = true // what LKMTEST_NO_SNAPSHOT=1 sets
	r = runFixture(t, tg, hello)
	tg.NoSnapshots = false
	if r.Outcome != result.Pass || r.Snapshot {
		t.Errorf("with snapshots off: %s, snapshot=%v; want PASS from a boot", r.Summary(), r.Snapshot)
	}

	m := regexp.MustCompile(`exec:cat '?([^'" \n]+)`).FindSubmatch(cmdline)
	if m == nil {
		t.Fatalf("no state file in %s", cmdline)
	}
	state := string(m[1])
	// The guest's RAM is a file beside the state (mapped copy-on-write by
	// the restored VM), and the state holds the devices only: no RAM.
	ram, err := os.Stat(filepath.Join(filepath.Dir(state), "ram"))
	if err != nil || ram.Size() != 256<<20 || ram.Mode().Perm() != 0o600 {
		t.Errorf("snapshot RAM file: %v, %v; want 256 MiB, mode 0600", ram, err)
	}
	if !strings.Contains(string(cmdline), "mem-path="+filepath.Join(filepath.Dir(state), "ram")+",share=off") {
		t.Errorf("qemu.cmdline of a restored VM does not map the snapshot's RAM file copy-on-write: %s", cmdline)
	}
	if st, err := os.Stat(state); err != nil || st.Size() > 4<<20 {
		t.Errorf("state file: %v, %v; want one without the guest's RAM (under 4 MiB)", st, err)
	}
	if err := os.WriteFile(state, []byte("not a QEMU migration stream"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runFixture(t, tg, hello)
	if r.Outcome != result.Pass || r.Snapshot {
		t.Errorf("with a damaged snapshot: %s, snapshot=%v; want PASS from a boot", r.Summary(), r.Snapshot)
	}
	if _, err := os.Stat(state); err == nil {
		t.Errorf("the damaged snapshot %s was kept", state)
	}
}

// snapshotRAMDigest is the sha256 of the RAM file that the VM of the test
// run in dir mapped (from its qemu.cmdline).
func snapshotRAMDigest(t *testing.T, dir string) string {
	t.Helper()
	cmdline, err := os.ReadFile(filepath.Join(dir, "qemu.cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`mem-path=([^,]+),share=off`).FindSubmatch(cmdline)
	if m == nil {
		t.Fatalf("%s/qemu.cmdline maps no snapshot RAM file copy-on-write: %s", dir, cmdline)
	}
	f, err := os.Open(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Every outcome, end to end, on both arches; then 'lkmtest verdict' logic
// (Rejudge) must reach the same verdicts offline, and a changed spec copy
// must change its verdict.
func TestOutcomesAndRejudge(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		cases := []struct {
			dir     string
			outcome result.Outcome
			reason  string
		}{
			{"../modules/ch04-hello", result.Pass, ""},
			{"testdata/modules/missing-line", result.Fail, "the line that never comes"},
			{"testdata/modules/crash-warn", result.Crash, "WARNING in crashers_warn"},
			{"testdata/modules/crash-null", result.Crash, "NULL pointer dereference"},
			{"testdata/modules/crash-panic", result.Crash, "kernel panic: crashers: deliberate panic"},
			{"testdata/modules/warn-allowed", result.Pass, ""},
			{"testdata/modules/partial-line", result.Pass, ""},
			{"testdata/modules/skip-kasan", result.Skip, "needs CONFIG_KASAN"},
			{"testdata/modules/build-error", result.Error, "undeclared_identifier"},
			{"testdata/modules/guest-steps", result.Pass, ""},
			{"testdata/modules/ktap", result.Pass, ""},
			{"testdata/modules/ktap-fail", result.Fail, "KTAP: 1 of 3 cases failed: ktap_lkm.compares FAIL"},
			{"testdata/modules/guest-steps-fail", result.Fail, "step 2 (run echo oops-from-stderr >&2; exit 3): run exited with status 3, expected 0; its standard error:\noops-from-stderr"},
			{"testdata/modules/guest-steps-wait-fail", result.Fail, "step 1 (wait_log ^lkmtest-never-logged (?P<n>[0-9]+)$): no kernel log line matched /^lkmtest-never-logged (?P<n>[0-9]+)$/ within 1s"},
			{"testdata/modules/guest-steps-assert-fail", result.Fail, "step 2 (assert ${seven} * 6 == 41): assert ${seven} * 6 == 41: ${seven} * 6 (42) == 41 is false"},
		}
		for _, c := range cases {
			r := runFixture(t, tg, c.dir)
			if r.Outcome != c.outcome || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("%s: %s, want %s with %q", c.dir, r.Summary(), c.outcome, c.reason)
				continue
			}
			again, err := verdict.Replay(r.Dir)
			if err != nil {
				t.Errorf("Rejudge %s: %v", r.Dir, err)
				continue
			}
			if again.Outcome != r.Outcome || again.Reason != r.Reason {
				t.Errorf("Rejudge %s: %s %q, want %s %q", c.dir, again.Outcome, again.Reason, r.Outcome, r.Reason)
			}
		}
		// Edit the saved spec of hello: the offline verdict follows it.
		r := runFixture(t, tg, "../modules/ch04-hello")
		saved := filepath.Join(r.Dir, verdict.SavedSpec)
		b, _ := os.ReadFile(saved)
		os.WriteFile(saved, []byte(strings.Replace(string(b), "'^Hello, world$'", "'^Hello, moon$'", 1)), 0o600)
		again, err := verdict.Replay(r.Dir)
		if err != nil || again.Outcome != result.Fail || !strings.Contains(again.Reason, "Hello, moon") {
			t.Errorf("Rejudge with an edited spec: %v %s %q, want FAIL naming /^Hello, moon$/", err, again.Outcome, again.Reason)
		}
	})
}

// A VM killed from outside while a step runs is LOST, judged at that
// step, never PASS. It is seen as it happens: a VM whose death went
// unnoticed would be TIMEOUT once the agent stopped answering (the step's
// 5 s timeout). The seconds from the kill to the verdict are
// BenchmarkTimeToVerdict's.
func TestLostWhenQEMUKilled(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		killed := killInStep(t, tg, hangLine)
		r := runFixtureWithin(t, tg, "testdata/modules/hang-init", 5*time.Minute)
		if killed().IsZero() {
			t.Fatalf("the VM was not killed: %q never reached its console\n%s", hangLine, r.Summary())
		}
		if want := "step 1 (insmod hang_lkm): the VM went away during the step"; r.Outcome != result.Lost || !strings.HasPrefix(r.Reason, want) {
			t.Errorf("killed VM: %s, want LOST %q", r.Summary(), want)
		}
		if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Lost {
			t.Errorf("steps = %+v, want step 1 LOST", r.Steps)
		}
	})
}

// hangLine is what the hang-init fixture's module logs in its init, which
// then never returns: on the console, it proves the step runs.
const hangLine = "hang_lkm: init will never return"

// killInStep kills the next test VM of tg once its console holds line
// (the step it is in runs; a backstop of minutes only stops a hung test).
// The function it returns tells when the kill was sent (zero: never).
func killInStep(t testing.TB, tg *Target, line string) func() time.Time {
	var mu sync.Mutex
	var when time.Time
	vmStarted = func(s *spec.Spec, vm *qemu.VM) {
		vmStarted = nil
		console := filepath.Join(tg.Options.Out, tg.Name(), s.Name, "console.log")
		go func() {
			for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				select {
				case <-vm.Done():
					return
				default:
				}
				if b, _ := os.ReadFile(console); strings.Contains(string(b), line) {
					mu.Lock()
					when = time.Now()
					mu.Unlock()
					vm.Kill()
					return
				}
			}
		}()
	}
	t.Cleanup(func() { vmStarted = nil })
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return when
	}
}

// A spec's boot.config gives it a kernel variant of its own (built once,
// cached): its requirement on the fragment's option holds there.
func TestBootConfigVariant(t *testing.T) {
	tg := testTarget(t)
	s, err := spec.Load("testdata/modules/boot-config/" + spec.FileName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := RunMatrix(context.Background(), tg.Options, []Cell{NewCell("6.1", arch.X86_64)}, []*spec.Spec{s})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Result(0, 0)
	if r.Outcome != result.Pass || !strings.Contains(r.Dir, "-x86_64+hz100") {
		t.Errorf("boot.config test: %s in %s, want PASS in a +hz100 target", r.Summary(), r.Dir)
	}
}

// The book's named examples pass, and fail when the module or the program
// misbehaves (the spec is precise enough to notice).
func TestBookExamplesAndNegatives(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		for _, c := range []struct {
			dir     string
			outcome result.Outcome
			reason  string
		}{
			{"../modules/ch09-oom-killer", result.Pass, ""},
			{"../modules/ch12-mutex-interruptible", result.Pass, ""},
			{"../modules/ch08-kmalloc-wastage", result.Pass, ""},
			{"testdata/modules/book-negative-kmalloc", result.Fail, `model kmalloc-wastage`},
			{"testdata/modules/book-negative-oom", result.Fail, "run exited with status 0, expected SIGKILL"},
			{"testdata/modules/book-negative-mutex", result.Fail, "step 7 (wait reader): the program's output does not match /read returned -1: EINTR$/"},
		} {
			r := runFixture(t, tg, c.dir)
			if r.Outcome != c.outcome || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("%s: %s, want %s with %q", c.dir, r.Summary(), c.outcome, c.reason)
			}
		}
	})
}
