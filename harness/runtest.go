package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/progress"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
	"github.com/lkmtest/lkmtest/qemu"
)

// vmStarted, when set (by tests), is called with every test VM started.
var vmStarted func(s *spec.Spec, vm *qemu.VM)

// SavedSpec is the copy of a test's spec in its run directory.
const SavedSpec = "spec.yaml"

// bootTimeout bounds the time from QEMU's start to the agent's hello.
const bootTimeout = 60 * time.Second

// stepGrace is how long the host waits past a step's own timeout before it
// gives up on the agent.
const stepGrace = 5 * time.Second

// copyIn puts the built modules into /lkm and the helpers into HelperDir
// through the agent (call sends one put request).
func copyIn(call func(guest.Request) error, mods builtModules) error {
	for name, ko := range mods.kos {
		if err := putFile(call, ko, "/lkm/"+name+".ko", 0o644); err != nil {
			return fmt.Errorf("copy module %s into the guest: %w", name, err)
		}
	}
	for name, bin := range mods.helpers {
		if err := putFile(call, bin, HelperDir+"/"+name, 0o755); err != nil {
			return fmt.Errorf("copy helper %s into the guest: %w", name, err)
		}
	}
	return nil
}

func putFile(call func(guest.Request) error, src, dst string, mode uint32) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return call(guest.Request{Op: guest.OpPut, Path: dst, Data: data, Mode: mode})
}

// session reads the agent's messages in its own goroutine.
type session struct {
	conn *guest.Conn
	msgs chan json.RawMessage
	err  chan error
	vm   *qemu.VM
	log  *os.File
}

func newSession(vm *qemu.VM, transcript *os.File) *session {
	s := &session{conn: guest.NewConn(vm.Agent()), msgs: make(chan json.RawMessage, 4), err: make(chan error, 1), vm: vm, log: transcript}
	go func() {
		for {
			var m json.RawMessage
			if err := s.conn.Recv(&m); err != nil {
				s.err <- err
				return
			}
			s.msgs <- m
		}
	}()
	return s
}

var (
	errVMExited   = errors.New("the VM exited")
	errAgentTimed = errors.New("no answer from the guest agent in time")
)

// next waits for the agent's next message, the VM's end, or the timeout.
func (s *session) next(ctx context.Context, v any, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-s.msgs:
		if s.log != nil {
			fmt.Fprintf(s.log, "< %s\n", m)
		}
		return json.Unmarshal(m, v)
	case err := <-s.err:
		<-s.vm.Done()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errVMExited
		}
		return fmt.Errorf("%w (agent channel: %v)", errVMExited, err)
	case <-s.vm.Done():
		return errVMExited
	case <-t.C:
		return errAgentTimed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *session) send(req guest.Request) error {
	if s.log != nil {
		shown := req
		if len(shown.Data) > 0 {
			shown.Data = nil
			fmt.Fprintf(s.log, "> %s (%d bytes of data)\n", mustJSON(shown), len(req.Data))
		} else {
			fmt.Fprintf(s.log, "> %s\n", mustJSON(shown))
		}
	}
	return s.conn.Send(req)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// stepRequest is the agent request that carries out a step, with the
// values earlier steps captured put in for ${name}.
func stepRequest(st *spec.Step, timeout time.Duration, vars map[string]string) (guest.Request, error) {
	var expandErr error
	x := func(s string) string {
		out, err := spec.Expand(s, vars)
		if err != nil && expandErr == nil {
			expandErr = err
		}
		return out
	}
	req := guest.Request{Op: guest.Op(st.Kind()), TimeoutMS: timeout.Milliseconds()}
	switch st.Kind() {
	case spec.StepInsmod:
		req.Path, req.Params = "/lkm/"+st.Module()+".ko", x(st.Params)
	case spec.StepRmmod:
		// The kernel names hello-1.ko's module hello_1; like rmmod(8),
		// take either spelling.
		req.Module = strings.ReplaceAll(st.Module(), "-", "_")
	case spec.StepRun:
		for _, a := range st.Run {
			req.Args = append(req.Args, x(a))
		}
		req.Handle = st.Background
	case spec.StepSignal:
		req.Handle, req.Signal = st.Signal, st.Send
	case spec.StepWait:
		req.Handle = st.Wait
	case spec.StepWrite:
		req.Path, req.Data = x(st.Write), []byte(x(st.Data))
	case spec.StepRead:
		req.Path = x(st.Read)
	case spec.StepSleep:
		req.TimeoutMS = st.Sleep.Std().Milliseconds()
	}
	return req, expandErr
}

// startVM starts the test's VM from the target's snapshot when it can (the
// snapshot's boot log then opens console.log), else boots it. It writes the
// command line to qemu.cmdline.
func startVM(ctx context.Context, t *Target, fns []qemu.Fn, dir string, console *os.File) (vm *qemu.VM, restored bool, err error) {
	o := t.Options
	if t.snapshotsEnabled() {
		snap, err := t.snapshot(ctx, fns)
		if err == nil {
			restoreFns := append(append(t.vmQuirks(), fns...), qemu.WithIncoming(filepath.Join(snap, "state")))
			writeCmdline(dir, o.Arch, restoreFns)
			if b, rerr := os.ReadFile(filepath.Join(snap, "console.log")); rerr == nil {
				_, _ = console.Write(b)
			}
			vm, err = qemu.Start(ctx, o.Arch, restoreFns...)
			if err == nil {
				return vm, true, nil
			}
			// A snapshot that does not restore (a damaged file, a QEMU
			// that changed in place) is dropped; the next run saves anew.
			_ = cache.RemoveAll(snap)
			_ = console.Truncate(0)
			_, _ = console.Seek(0, io.SeekStart)
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		fmt.Fprintf(o.log(), "%s: %v; booting instead\n", t.Name(), err)
	}
	all := append(t.vmQuirks(), fns...)
	writeCmdline(dir, o.Arch, all)
	vm, err = qemu.Start(ctx, o.Arch, all...)
	return vm, false, err
}

func writeCmdline(dir string, arch arch.Arch, fns []qemu.Fn) {
	if opts, err := qemu.NewOptions(arch, fns...); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "qemu.cmdline"), []byte(opts.CmdlineQuoted()+"\n"), 0o600)
	}
}

// RunTest boots a VM for one test, runs its steps and judges them.
func RunTest(ctx context.Context, t *Target, s *spec.Spec) (res verdict.Result) {
	o := t.Options
	start := time.Now()
	res = verdict.Result{Test: s.Name, File: s.File, Kernel: t.Kernel.Meta.KernelVersion, Arch: string(o.Arch), Outcome: verdict.Pass, SpecLess: s.SpecLess}
	dir := filepath.Join(o.Out, t.Name(), s.Name)
	res.Dir = dir
	task := s.Name + " on " + t.Name()
	progress.Send(ctx, progress.Event{Task: task, Phase: "starting the VM, building modules"})
	defer func() {
		res.Duration = time.Since(start)
		writeResult(dir, &res)
		progress.Send(ctx, progress.Event{Task: task, Phase: string(res.Outcome), End: true})
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		res.Outcome, res.Reason = verdict.Error, err.Error()
		return res
	}
	if b, err := os.ReadFile(s.File); err == nil {
		// The spec as it was, for 'lkmtest verdict' (re-judging offline).
		_ = os.WriteFile(filepath.Join(dir, SavedSpec), b, 0o600)
	}
	if why := s.Requires.Unmet(t.host()); why != "" {
		res.Outcome, res.Reason = verdict.Skip, why
		return res
	}

	// Modules compile while the VM boots.
	modsCh := make(chan builtModules, 1)
	go func() {
		m := buildModules(ctx, t, s, dir)
		m.done = time.Now()
		modsCh <- m
	}()

	timeout := s.Timeout.Std()
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	console, err := cache.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		res.Outcome, res.Reason = verdict.Error, err.Error()
		return res
	}
	defer console.Close()
	var consoleOut io.Writer = console
	if o.Verbose {
		consoleOut = io.MultiWriter(console, o.log())
	}
	sockDir, err := socketDir("vm")
	if err != nil {
		res.Outcome, res.Reason = verdict.Error, err.Error()
		return res
	}
	defer releaseSocketDir(sockDir)
	fns := []qemu.Fn{
		qemu.WithKernel(t.Kernel.Image), qemu.WithInitramfs(t.Initramfs), qemu.WithAccel(t.Accel.Accel),
		qemu.WithSocketDir(sockDir), qemu.WithAgent(), qemu.WithConsole(consoleOut),
		qemu.WithMemory(s.Boot.Memory), qemu.WithCPUs(s.Boot.CPUs), qemu.WithAppend(s.Boot.Cmdline...),
		// The VM's own limit is a backstop: steps have tighter ones.
		qemu.WithTimeout(timeout + bootTimeout),
	}
	vm, restored, err := startVM(ctx, t, fns, dir, console)
	if err != nil {
		res.Outcome, res.Reason = verdict.Error, "boot: "+err.Error()
		return res
	}
	res.Snapshot = restored
	if vmStarted != nil {
		vmStarted(s, vm)
	}
	defer func() {
		vm.Stop()
		exit := vm.Wait()
		_ = os.WriteFile(filepath.Join(dir, "qemu.exit"), []byte(exit.String()+"\n"), 0o600)
	}()
	transcript, _ := cache.Create(filepath.Join(dir, "agent.log"))
	if transcript != nil {
		defer transcript.Close()
	}
	sess := newSession(vm, transcript)
	deadline := start.Add(timeout)

	// A module that does not compile ends the test at once, boot or not.
	helloCh := make(chan error, 1)
	go func() {
		if restored {
			// The snapshot was taken after the agent's hello.
			helloCh <- nil
			return
		}
		var hello guest.Hello
		helloCh <- sess.next(ctx, &hello, bootTimeout)
	}()
	var mods builtModules
	select {
	case mods = <-modsCh:
		res.Modules = mods.done.Sub(start)
		if mods.err != nil {
			res.Outcome, res.Reason = verdict.Error, mods.err.Error()
			return res
		}
		if err := <-helloCh; err != nil {
			lost(&res, vm, console.Name(), "before the guest agent started", err)
			return res
		}
		res.Boot = time.Since(start)
	case err := <-helloCh:
		if err != nil {
			lost(&res, vm, console.Name(), "before the guest agent started", err)
			return res
		}
		res.Boot = time.Since(start)
		mods = <-modsCh
		res.Modules = mods.done.Sub(start)
		if mods.err != nil {
			res.Outcome, res.Reason = verdict.Error, mods.err.Error()
			return res
		}
	}
	if s.SpecLess {
		if s, err = smokeSpec(s, mods, dir); err != nil {
			res.Outcome, res.Reason = verdict.Error, err.Error()
			return res
		}
	}
	id := 0
	call := func(req guest.Request, wait time.Duration) (guest.Response, error) {
		id++
		req.ID = id
		var resp guest.Response
		if err := sess.send(req); err != nil {
			return resp, fmt.Errorf("%w (send: %v)", errVMExited, err)
		}
		if err := sess.next(ctx, &resp, wait); err != nil {
			return resp, err
		}
		if resp.ID != req.ID {
			return resp, fmt.Errorf("agent answered request %d with id %d", req.ID, resp.ID)
		}
		return resp, nil
	}
	put := func(req guest.Request) error {
		resp, err := call(req, 30*time.Second)
		if err == nil && resp.Error != "" {
			err = errors.New(resp.Error)
		}
		return err
	}
	if err := copyIn(put, mods); err != nil {
		lost(&res, vm, console.Name(), "while copying modules and helpers into the guest", err)
		return res
	}
	judge := verdict.NewJudge(s)
	judge.Env = model.Env{Arch: string(o.Arch), Kernel: t.Kernel.Meta.KernelVersion}
	for i := range s.Steps {
		st := &s.Steps[i]
		progress.Send(ctx, progress.Event{Task: task, Phase: fmt.Sprintf("step %d/%d: %s", i+1, len(s.Steps), st.String())})
		if _, ok := mods.kos[st.Module()]; !ok && st.Kind() == spec.StepInsmod {
			res.Add(verdict.StepResult{Index: i + 1, Line: st.Line, Step: st.String(), Outcome: verdict.Error,
				Reason: mods.missing(st.Module())})
			return res
		}
		stepTimeout := st.Timeout.Std()
		if left := time.Until(deadline); left < stepTimeout {
			stepTimeout = max(left, time.Second)
		}
		req, err := stepRequest(st, stepTimeout, judge.Vars)
		if err != nil {
			res.Add(verdict.StepResult{Index: i + 1, Line: st.Line, Step: st.String(), Outcome: verdict.Error, Reason: err.Error()})
			return res
		}
		wait := stepTimeout + stepGrace
		if st.Kind() == spec.StepSleep {
			wait = st.Sleep.Std() + stepGrace
		}
		resp, err := call(req, wait)
		if err != nil {
			// The guest stopped answering or went away: the console says
			// why when the kernel reported something (a soft lockup, an
			// oops that took a lock with it): CRASH; else TIMEOUT or LOST.
			res.Add(verdict.StepResult{Index: i + 1, Line: st.Line, Step: st.String()})
			lost(&res, vm, console.Name(), "during the step", err)
			if res.Outcome == verdict.Timeout {
				last := &res.Steps[len(res.Steps)-1]
				last.Reason = fmt.Sprintf("did not finish within %s (the guest stopped answering)", stepTimeout)
				res.Reason = fmt.Sprintf("step %d (%s): %s", last.Index, last.Step, last.Reason)
			}
			return res
		}
		sr := judge.Step(i+1, resp)
		res.Add(sr)
		if verdict.Stop(sr.Outcome) {
			return res
		}
	}
	// The agent's answer to shutdown proves it survived every step; the
	// deferred Stop then quits QEMU at once rather than waiting for the
	// guest's reset (the initramfs holds nothing to keep).
	if _, err := call(guest.Request{Op: guest.OpShutdown}, 10*time.Second); err != nil {
		lost(&res, vm, console.Name(), "after the last step", err)
	}
	return res
}

// lost judges a VM or agent that went away: a crash report on the console
// makes it CRASH, otherwise it is LOST (or TIMEOUT when the host gave up).
func lost(res *verdict.Result, vm *qemu.VM, consolePath, when string, err error) {
	if errors.Is(err, errAgentTimed) {
		vm.Stop()
	}
	exit := vm.Wait()
	judgeLost(res, readLines(consolePath), when, exit.TimedOut || errors.Is(err, errAgentTimed), exit.String())
}

// judgeLost sets the outcome of a test whose guest stopped answering from
// its console log: CRASH when it holds a crash report, else TIMEOUT when
// the host gave up waiting, else LOST. The step in progress, if any, gets
// the same outcome.
func judgeLost(res *verdict.Result, lines []string, when string, timedOut bool, exit string) {
	reports := klog.Find(lines)
	res.Reports = reports
	tailN := 30
	if len(reports) > 0 {
		// Show the first report from its header on.
		from := reports[0].Line
		res.Excerpt = lines[from:min(len(lines), from+tailN)]
	} else if len(lines) > tailN {
		res.Excerpt = lines[len(lines)-tailN:]
	} else {
		res.Excerpt = lines
	}
	var outcome verdict.Outcome
	var reason string
	switch {
	case len(reports) > 0:
		outcome, reason = verdict.Crash, "kernel reported "+klog.Summary(reports)+" "+when
	case timedOut:
		outcome, reason = verdict.Timeout, "no answer from the guest "+when
	default:
		outcome, reason = verdict.Lost, fmt.Sprintf("the VM went away %s: %s", when, exit)
	}
	if len(res.Steps) > 0 && res.Steps[len(res.Steps)-1].Outcome == "" {
		last := &res.Steps[len(res.Steps)-1]
		last.Outcome, last.Reason = outcome, reason
		reason = fmt.Sprintf("step %d (%s): %s", last.Index, last.Step, reason)
		res.Line = last.Line
	}
	res.Outcome, res.Reason = verdict.Worse(res.Outcome, outcome), reason
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		out = append(out, qemu.CleanLine(l))
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeResult(dir string, r *verdict.Result) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		_ = os.WriteFile(filepath.Join(dir, "result.json"), append(b, '\n'), 0o600)
	}
}

// socketKinds are the kinds of socket directories lkmtest makes: a test's
// VM, a snapshot's VM, the accelerator probe's VM.
var socketKinds = []string{"vm", "snap", "probe"}

// socketOwnerFile is locked (flock) by the process that uses the directory,
// for as long as it does.
const socketOwnerFile = ".owner"

var (
	sweepOnce   sync.Once
	ownersMu    sync.Mutex
	socketOwner = map[string]*os.File{}
)

// socketDir makes a temporary socket directory of kind
// ("lkmtest-vm-<pid>-...") and holds a lock in it until releaseSocketDir.
// The first call also removes the directories whose lock nobody holds:
// those of lkmtest processes that are gone (kill -9 cannot clean up). A
// lock, not the pid, tells: a live process of another PID namespace
// sharing /tmp keeps its directories.
func socketDir(kind string) (string, error) {
	sweepOnce.Do(sweepSocketDirs)
	dir, err := os.MkdirTemp("", fmt.Sprintf("lkmtest-%s-%d-", kind, os.Getpid()))
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(filepath.Join(dir, socketOwnerFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("socket directory: %w", err)
	}
	ownersMu.Lock()
	socketOwner[dir] = f
	ownersMu.Unlock()
	return dir, nil
}

// releaseSocketDir removes a socket directory and drops its lock.
func releaseSocketDir(dir string) {
	_ = os.RemoveAll(dir)
	ownersMu.Lock()
	if f := socketOwner[dir]; f != nil {
		f.Close()
		delete(socketOwner, dir)
	}
	ownersMu.Unlock()
}

func sweepSocketDirs() {
	for _, kind := range socketKinds {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "lkmtest-"+kind+"-*-*"))
		for _, d := range dirs {
			f, err := os.OpenFile(filepath.Join(d, socketOwnerFile), os.O_RDWR, 0)
			if err != nil {
				continue // being set up, or not ours
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				_ = os.RemoveAll(d) // nobody holds it: its process is gone
			}
			f.Close()
		}
	}
}
