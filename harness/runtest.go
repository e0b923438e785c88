package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/progress"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/symbol"
	"github.com/lkmtest/lkmtest/harness/verdict"
	"github.com/lkmtest/lkmtest/qemu"
)

// vmStarted, when set (by tests), is called with every test VM started.
var vmStarted func(s *spec.Spec, vm *qemu.VM)

// stepGrace is how long the host waits past a step's own timeout before it
// gives up on the agent.
var stepGrace = 5 * time.Second

// shutdownWait bounds the agent's answer to the final shutdown request.
const shutdownWait = 10 * time.Second

// RunTest boots a VM for one test, runs its steps and judges them. Its
// modules compile while the VM boots; a module that does not compile ends
// the test at once, booted or not.
func RunTest(ctx context.Context, t *Target, s *spec.Spec) verdict.Result {
	res, kept, _ := runTest(ctx, t, s, nil, func() bool { return false })
	kept.close()
	return res
}

// keptVM is a VM that ran a test which passed, reported nothing and left
// the guest as it found it (the agent's state: see guest.OpState): the
// next test of the same target and boot settings runs in it, saving a
// VM's start and the guest's first, slow, steps (under TCG, code runs
// slowly until translated).
type keptVM struct {
	sess  *boot.Session
	t     *Target
	boot  string            // the boot settings (bootKey)
	base  map[string]string // the guest's state before its first test
	after string            // the test it ran last
}

func (k *keptVM) close() {
	if k != nil {
		k.sess.Close()
	}
}

// bootKey is what a spec asks of its VM: tests that agree may share one.
func bootKey(s *spec.Spec) string {
	return fmt.Sprintf("%d %d %q", s.Boot.Memory, s.Boot.CPUs, s.Boot.Cmdline)
}

// reuse says whether the target's tests may run in a VM kept from an
// earlier test: not with --isolate, nor where kmemleak scans (a leak
// belongs to the test that made it).
func (t *Target) reuse() bool { return !t.Options.Isolate && !t.leakScan() }

// runTest runs s in kept's VM when it fits (same target, same boot
// settings), else in a VM of its own, and returns the VM when it may run
// another test. A test that did not pass in a kept VM runs again in a VM
// of its own, and that run is its verdict: whatever an earlier test left
// behind unseen cannot fail another.
//
// follow, asked once the steps have passed, says whether a test that
// could run in this VM is still to come (nil: yes); when none is, the
// guest's state is not asked for and checked, and judged is false: the
// VM is not kept, but nothing is known of whether it could have been.
func runTest(ctx context.Context, t *Target, s *spec.Spec, kept *keptVM, follow func() bool) (res verdict.Result, keep *keptVM, judged bool) {
	if kept != nil && (kept.t != t || kept.boot != bootKey(s) || !t.reuse()) {
		kept.close()
		kept = nil
	}
	r := newTestRun(ctx, t, s)
	r.follow = follow
	keep, used := r.run(kept)
	res = r.finish()
	if !used || res.Outcome == result.Pass || res.Outcome == result.Skip || ctx.Err() != nil {
		return res, keep, !r.unjudged
	}
	keep.close()
	fmt.Fprintf(t.Options.log(), "%s: %s in the VM of %s; running it again in a VM of its own\n", r.task, res.Outcome, kept.after)
	first := fmt.Sprintf("%s in the VM of %s: %s", res.Outcome, kept.after, res.Reason)
	aside := r.dir + ".first-attempt"
	_ = os.RemoveAll(aside)
	moved := os.Rename(r.dir, aside) == nil
	r = newTestRun(ctx, t, s)
	r.follow = follow
	keep, _ = r.run(nil)
	if moved {
		keepFirstAttempt(aside, r.dir)
	}
	r.res.FirstAttempt = first
	return r.finish(), keep, !r.unjudged
}

// run runs the test, in kept's VM when given, and returns the VM when it
// may run another test, and whether it used kept (kept is returned as it
// was when the test ended before it needed a VM).
func (r *testRun) run(kept *keptVM) (keep *keptVM, used bool) {
	t, s, ctx := r.t, r.s, r.ctx
	if !r.setUp() {
		return kept, false
	}
	mods := make(chan modbuild.Set, 1)
	go func() { mods <- t.build(ctx, s, r.dir) }()
	cfg := boot.Config{Dir: r.dir, Memory: s.Boot.Memory, CPUs: s.Boot.CPUs, Cmdline: s.Boot.Cmdline,
		// The VM's own limit is a backstop: steps have tighter ones.
		Timeout: r.timeout + boot.HelloTimeout}
	if t.Options.Verbose {
		cfg.Console = t.Options.log()
	}
	var set modbuild.Set
	var base map[string]string
	if kept != nil {
		// The VM is there: only the modules are awaited, and a module
		// that does not build leaves the VM for the next test.
		set = <-mods
		if !r.built(set) {
			return kept, false
		}
		if err := kept.sess.Adopt(r.dir, cfg.Console); err != nil {
			kept.close()
			r.fail(result.Error, err.Error())
			return nil, false
		}
		if vm, ok := kept.sess.VM.(interface{ Rearm(time.Duration) }); ok {
			vm.Rearm(cfg.Timeout)
		}
		r.sess, base, used = kept.sess, kept.base, true
		r.res.ReusedAfter = kept.after
		// What the kernel logged since the previous test's last request
		// is that test's: collected here, it reaches no step of this one.
		if _, err := r.sess.Guest.Call(ctx, guest.Request{Op: guest.OpSleep, Aux: true}, shutdownWait); err != nil {
			r.lost("before the test, in the VM of "+kept.after, err)
			kept.close()
			return nil, true
		}
		r.res.Boot = time.Since(r.start)
	} else {
		sess, err := t.start(ctx, cfg)
		if err != nil {
			r.fail(result.Error, err.Error())
			r.res.Stage = result.StageBoot
			return nil, false
		}
		r.sess, r.res.Snapshot, r.res.Standby, r.early = sess, sess.Restored, sess.Standby, sess.Early
		if vm, ok := sess.VM.(*qemu.VM); ok && vmStarted != nil {
			vmStarted(s, vm)
		}
		var ok bool
		if set, ok = r.await(mods); !ok {
			sess.Close()
			return nil, false
		}
		if base = sess.Baseline; base == nil && t.reuse() && r.followed() {
			if base, err = r.state(); err != nil {
				r.auxFailed("reading the guest's state before the test", err)
				sess.Close()
				return nil, false
			}
		}
	}
	defer func() {
		if keep == nil {
			r.sess.Close()
		}
	}()
	if s.SpecLess {
		var err error
		if r.s, err = modbuild.SmokeSpec(s, set, filepath.Join(r.dir, verdict.SavedSpec)); err != nil {
			r.fail(result.Error, err.Error())
			return nil, used
		}
	}
	if err := r.sess.Guest.Put(ctx, set.Files()); err != nil {
		r.lost("while copying modules and helpers into the guest", err)
		return nil, used
	}
	if t.leakScan() {
		r.leaks = &leaks{r: r, table: r.table, lastLoad: time.Now()}
		if err := r.leaks.clear(); err != nil {
			r.auxFailed("clearing kmemleak's list ("+kmemleakFile+")", err)
			return nil, used
		}
	}
	if !r.steps(set) {
		return nil, used
	}
	if t.reuse() && r.res.Outcome == result.Pass && !r.reported && (base == nil || !r.followed()) {
		r.unjudged = true
	} else if base != nil && t.reuse() && r.res.Outcome == result.Pass && !r.reported {
		now, err := r.state()
		if err != nil {
			r.lost("after the last step", err)
			return nil, used
		}
		if sameState(base, now) {
			return &keptVM{sess: r.sess, t: t, boot: bootKey(s), base: base, after: s.Name}, used
		}
	}
	// The deferred Close then quits QEMU at once rather than waiting for
	// the guest's reset (the initramfs holds nothing to keep).
	if _, err := r.sess.Guest.Call(ctx, guest.Request{Op: guest.OpShutdown}, shutdownWait); err != nil {
		r.lost("after the last step", err)
	}
	return nil, used
}

// FirstAttemptDir is where, in a test's directory, the files of its
// attempt in a kept VM are, when it did not pass there and ran again in a
// VM of its own; its result.json is named attempt.json there, so that
// lkmtest verdict judges the test once.
const FirstAttemptDir = "first-attempt"

// keepFirstAttempt moves the first attempt's directory, set aside, into
// the directory of the run that gave the verdict.
func keepFirstAttempt(aside, dir string) {
	_ = os.Rename(filepath.Join(aside, verdict.ResultFile), filepath.Join(aside, "attempt.json"))
	if os.MkdirAll(dir, 0o700) != nil || os.Rename(aside, filepath.Join(dir, FirstAttemptDir)) != nil {
		_ = os.RemoveAll(aside)
	}
}

// followed says whether a test that could use this VM is still to come.
func (r *testRun) followed() bool { return r.follow == nil || r.follow() }

// state asks the agent what a test could leave behind (guest.OpState).
func (r *testRun) state() (map[string]string, error) {
	resp, err := r.sess.Guest.Call(r.ctx, guest.Request{Op: guest.OpState, Aux: true}, shutdownWait)
	if err == nil && resp.Error != "" {
		err = errors.New(resp.Error)
	}
	return resp.State, err
}

// sameState: the guest is as it was (every entry equal, none added or
// gone).
func sameState(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testRun is one test on one target as it goes.
type testRun struct {
	ctx     context.Context
	t       *Target
	s       *spec.Spec
	dir     string
	task    string
	start   time.Time
	timeout time.Duration
	sess    *boot.Session
	table   *symbol.Table      // the test's modules, once built
	sym     verdict.Symbolizer // symbolizes with table
	leaks   *leaks             // kmemleak's scans (nil: not this kernel)
	// reported: a step's log held a kernel report (allowed or expected
	// too): the VM is not kept for another test.
	reported bool
	// follow: see runTest; unjudged: the guest's state after the test
	// was not checked, as no test was left to use the VM.
	follow   func() bool
	unjudged bool
	// early: what the agent collected before the first step (warmUp):
	// the first step's records.
	early *guest.Response
	res   verdict.Result
}

func newTestRun(ctx context.Context, t *Target, s *spec.Spec) *testRun {
	r := &testRun{ctx: ctx, t: t, s: s, start: time.Now(), timeout: s.Timeout.Std(),
		dir: filepath.Join(t.Options.Out, t.Name(), s.Name), task: s.Name + " on " + t.Name()}
	if t.Options.Timeout > 0 {
		r.timeout = t.Options.Timeout
	}
	cell := t.Cell()
	r.res = verdict.Result{Test: s.Name, File: s.File, Kernel: cell.Release, Arch: cell.Arch, Variant: cell.Variant, Cell: cell.Label(),
		Outcome: result.Pass, SpecLess: s.SpecLess, Dir: r.dir}
	progress.Send(ctx, progress.Event{Task: r.task, Phase: "starting the VM, building modules"})
	return r
}

// setUp makes the run directory and saves the spec there; false when the
// test ends before it starts (an error, unmet requirements).
func (r *testRun) setUp() bool {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		r.fail(result.Error, err.Error())
		return false
	}
	if b, err := os.ReadFile(r.s.File); err == nil {
		// The spec as it was, for 'lkmtest verdict' (re-judging offline).
		_ = os.WriteFile(filepath.Join(r.dir, verdict.SavedSpec), b, 0o600)
	}
	if why := r.s.Requires.Unmet(r.t.host()); why != "" {
		r.fail(result.Skip, why)
		return false
	}
	if r.t.Modules != nil {
		// A DKMS package whose BUILD_EXCLUSIVE_* rules the kernel out.
		if why := r.t.Modules.Excluded(r.ctx, r.s); why != "" {
			r.fail(result.Skip, why)
			return false
		}
	}
	return true
}

// finish records the duration, writes result.json and reports the end.
func (r *testRun) finish() verdict.Result {
	r.res.Duration = time.Since(r.start)
	verdict.WriteResult(r.dir, &r.res)
	progress.Send(r.ctx, progress.Event{Task: r.task, Phase: string(r.res.Outcome), End: true})
	progress.Record(r.ctx, "test", r.task, r.start)
	return r.res
}

func (r *testRun) fail(o result.Outcome, reason string) { r.res.Outcome, r.res.Reason = o, reason }

// built takes the test's modules in: false when the test ends (a module
// that did not build, or SKIP).
func (r *testRun) built(set modbuild.Set) bool {
	r.res.Modules = set.Done.Sub(r.start)
	r.table = symbol.NewTable(set.Modules)
	// The kernel's own frames too, when it has debug info.
	r.table.SetKernel(filepath.Join(r.t.Kernel.BuildDir, "vmlinux"))
	r.sym = verdict.NewSymbolizer(r.table, r.s.Dir)
	if set.Skip != "" {
		r.fail(result.Skip, set.Skip)
		return false
	}
	if set.Err != nil {
		r.fail(result.Error, set.Err.Error())
		r.res.Stage = inStageOf(result.StageModules, set.Err)
	}
	return set.Err == nil
}

// await waits for both the modules and the agent's hello, whichever comes
// first; false when the test ended (a module error, a guest that did not
// start).
func (r *testRun) await(mods <-chan modbuild.Set) (modbuild.Set, bool) {
	hello := make(chan error, 1)
	go func() { hello <- r.sess.Hello(r.ctx) }()
	built := r.built
	started := func(err error) bool {
		if err != nil {
			r.lost("before the guest agent started", err)
			return false
		}
		r.res.Boot = time.Since(r.start)
		return true
	}
	select {
	case set := <-mods:
		return set, built(set) && started(<-hello)
	case err := <-hello:
		if !started(err) {
			return modbuild.Set{}, false
		}
		if r.sess.Standby {
			set := <-mods // warmed up by the standby
			return set, built(set)
		}
		select {
		case set := <-mods:
			return set, built(set)
		case <-time.After(warmUpAfter):
		}
		if !r.warmUp() {
			return modbuild.Set{}, false
		}
		set := <-mods
		return set, built(set)
	}
}

// warmUpAfter is how long after the hello modules still building make a
// warm-up worth it: modules already built come within it.
const warmUpAfter = 20 * time.Millisecond

// warmUp has the agent start its module helper once while the modules
// still build: an insmod of a file that is not there (ENOENT, no system
// call into the module loader). A restored VM's QEMU translates the guest
// code of every path anew, and the first helper a test starts costs
// 40-60 ms of it (the next, 5 ms); here that cost overlaps the build
// rather than following it. The records it collects are the first step's.
// False when the guest did not answer (the test is then judged lost).
func (r *testRun) warmUp() bool {
	resp, err := r.sess.Guest.Call(r.ctx, boot.WarmUpRequest(), shutdownWait)
	if err != nil {
		r.auxFailed("starting the module helper once before the test", err)
		return false
	}
	r.early = &resp
	return true
}

// steps runs and judges the steps in order until one stops the test:
// true when the last step was reached and the guest still answers (the
// caller's last request, a shutdown or the guest's state, proves it
// survived every step).
func (r *testRun) steps(set modbuild.Set) bool {
	judge := verdict.NewJudge(r.s)
	judge.Env = model.Env{Arch: string(r.t.Options.Arch), Kernel: r.t.Kernel.Meta.KernelVersion}
	judge.Symbolize = r.sym
	deadline := r.start.Add(r.timeout)
	for i := range r.s.Steps {
		st := &r.s.Steps[i]
		progress.Send(r.ctx, progress.Event{Task: r.task, Phase: fmt.Sprintf("step %d/%d: %s", i+1, len(r.s.Steps), st.String())})
		stepRes := verdict.StepResult{Index: i + 1, Line: st.Line, Step: st.String()}
		if _, ok := set.Modules[st.Module()]; !ok && st.Kind() == spec.StepInsmod {
			stepRes.Outcome, stepRes.Reason = result.Error, set.Missing(st.Module())
			r.res.Add(stepRes)
			return false
		}
		stepTimeout := min(st.Timeout.Std(), max(time.Until(deadline), time.Second))
		if r.res.Outcome == result.Fail && st.Missing(judge.Vars) != "" {
			// A value was to come from a step that failed: that
			// failure is the test's verdict, and no later step can run.
			break
		}
		req, err := stepRequest(st, stepTimeout, judge.Vars)
		if err != nil {
			stepRes.Outcome, stepRes.Reason = result.Error, err.Error()
			r.res.Add(stepRes)
			return false
		}
		if judge.Satisfied(st) {
			req.Until, req.TimeoutMS = "", 0 // the line came with the previous step
		}
		wait := stepTimeout + stepGrace
		if st.Kind() == spec.StepSleep {
			wait = st.Sleep.Std() + stepGrace
		}
		resp, err := r.sess.Guest.Call(r.ctx, req, wait)
		if err != nil {
			r.res.Add(stepRes)
			r.lost("during the step", err)
			if r.res.Outcome == result.Timeout {
				last := &r.res.Steps[len(r.res.Steps)-1]
				last.Reason = fmt.Sprintf("did not finish within %s (the guest stopped answering)", stepTimeout)
				r.res.Reason = fmt.Sprintf("step %d (%s): %s", last.Index, last.Step, last.Reason)
			}
			return false
		}
		if r.early != nil {
			resp.Records, resp.Lost = append(r.early.Records, resp.Records...), resp.Lost+r.early.Lost
			r.early = nil
		}
		sr := judge.Step(i+1, resp)
		if len(sr.Reports) > 0 || len(sr.Allowed) > 0 {
			r.reported = true
		}
		if r.res.Add(sr); sr.Outcome.Stops() {
			return false
		}
		if !r.scanAfter(st, sr) {
			return false
		}
	}
	if r.leaks != nil {
		reps, err := r.leaks.scan(true, r.sym)
		if err != nil {
			r.auxFailed("in kmemleak's scan at the test's end", err)
			return false
		}
		verdict.AddLeaks(&r.res, reps, true)
	}
	return true
}

// scanAfter does, on a kmemleak kernel, what a step asks after it: a
// module loaded is located, one unloaded is followed by a scan. False
// when the guest stopped answering.
func (r *testRun) scanAfter(st *spec.Step, sr verdict.StepResult) bool {
	if r.leaks == nil || sr.Outcome != result.Pass {
		return true
	}
	switch st.Kind() {
	case spec.StepInsmod:
		r.leaks.loaded(st.Module())
		r.leaks.lastLoad = time.Now()
	case spec.StepRun, spec.StepWrite, spec.StepWait:
		r.leaks.lastLoad = time.Now()
	case spec.StepRmmod:
		reps, err := r.leaks.scan(false, r.sym)
		if err != nil {
			r.auxFailed("in kmemleak's scan after rmmod", err)
			return false
		}
		verdict.AddLeaks(&r.res, reps, false)
	}
	return true
}

// auxFailed ends the test on a failed request of the host's own: lost
// when the guest stopped answering, else ERROR.
func (r *testRun) auxFailed(where string, err error) {
	if errors.Is(err, guest.ErrGone) || errors.Is(err, guest.ErrNoAnswer) {
		r.lost(where, err)
		return
	}
	r.fail(result.Error, where+": "+err.Error())
}

// lost judges a guest that stopped answering or went away, from its
// console: CRASH when the kernel reported something (a soft lockup, an
// oops that took a lock with it), else TIMEOUT or LOST.
func (r *testRun) lost(when string, err error) {
	noAnswer := errors.Is(err, guest.ErrNoAnswer)
	if noAnswer {
		r.sess.VM.Stop()
	}
	exit := r.sess.VM.Wait()
	verdict.JudgeLost(&r.res, verdict.ConsoleLines(r.sess.Console), when, exit.TimedOut || noAnswer, exit.String(), r.sym)
}
