package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
	"github.com/lkmtest/lkmtest/qemu"
)

// These tests run RunTest against a fake boot: no QEMU, no kernel. The
// fake VM's agent answers as a script says, so the runner's decisions
// (a module error before boot, TIMEOUT against LOST and CRASH, deadlines)
// are tested alone.

// fakeVM is a boot.VM whose agent is a goroutine.
type fakeVM struct {
	host, guest net.Conn
	done        chan struct{}
	once        sync.Once
	exit        qemu.Exit
	stopped     bool
}

func newFakeVM() *fakeVM {
	h, g := net.Pipe()
	return &fakeVM{host: h, guest: g, done: make(chan struct{})}
}

func (v *fakeVM) Agent() net.Conn       { return v.host }
func (v *fakeVM) Done() <-chan struct{} { return v.done }
func (v *fakeVM) Wait() qemu.Exit       { <-v.done; return v.exit }
func (v *fakeVM) Stop()                 { v.end(qemu.Exit{Code: -1, Stopped: true}) }
func (v *fakeVM) end(e qemu.Exit)       { v.once.Do(func() { v.exit = e; v.guest.Close(); close(v.done) }) }
func (v *fakeVM) stoppedByHost() bool   { <-v.done; return v.exit.Stopped }

// fakeAgent is the guest side: hello (unless silent), then answer decides
// each request's fate: a response, nil for no answer, or ending the VM.
type fakeAgent struct {
	silent bool
	// sameState: the guest's state never changes (its VM may be kept).
	sameState bool
	answer    func(vm *fakeVM, req guest.Request) *guest.Response
	reqs      chan guest.Request
}

func (a *fakeAgent) run(vm *fakeVM) {
	conn := guest.NewConn(vm.guest)
	if !a.silent {
		_ = conn.Send(guest.Hello{})
	}
	for {
		var req guest.Request
		if conn.RecvRequest(&req) != nil {
			return
		}
		if a.reqs != nil {
			a.reqs <- req
		}
		if req.Op == guest.OpPut || req.Op == guest.OpShutdown {
			_ = conn.Send(guest.Response{ID: req.ID})
			continue
		}
		if req.Op == guest.OpState {
			// A new state each time (a VM is never kept) unless the
			// test keeps it the same (sameState).
			st := map[string]string{"n": fmt.Sprint(stateCalls.Add(1))}
			if a.sameState {
				st = map[string]string{"n": "0"}
			}
			_ = conn.Send(guest.Response{ID: req.ID, State: st})
			continue
		}
		if resp := a.answer(vm, req); resp != nil {
			resp.ID = req.ID
			_ = conn.Send(resp)
		}
	}
}

// stateCalls numbers the fake agents' state answers.
var stateCalls atomic.Int64

// fakeTarget is a target whose VMs are fake and whose modules build as
// build says.
func fakeTarget(t *testing.T, agent *fakeAgent, console string, build func() modbuild.Set) (*Target, *[]*fakeVM) {
	t.Helper()
	var vms []*fakeVM
	tg := &Target{Kernel: &kbuild.Kernel{BuildDir: t.TempDir(), Meta: kbuild.Metadata{KernelVersion: "6.1.192"}},
		Options: &Options{Out: t.TempDir(), Arch: arch.X86_64, Kernel: "6.1"}}
	tg.start = func(ctx context.Context, cfg boot.Config) (*boot.Session, error) {
		if err := os.WriteFile(filepath.Join(cfg.Dir, "console.log"), []byte(console), 0o600); err != nil {
			return nil, err
		}
		vm := newFakeVM()
		vms = append(vms, vm)
		go agent.run(vm)
		return boot.NewSession(vm, cfg.Dir, false), nil
	}
	tg.build = func(context.Context, *spec.Spec, string) modbuild.Set {
		set := build()
		set.Done = time.Now()
		return set
	}
	return tg, &vms
}

func fakeSpec(t *testing.T, text string) *spec.Spec {
	t.Helper()
	p := filepath.Join(t.TempDir(), spec.FileName)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func builtHello() modbuild.Set {
	return modbuild.Set{Modules: map[string]string{"hello": "/dev/null"}}
}

const oneStep = "name: fake\nsteps:\n  - insmod: hello\n    timeout: 2s\n"

// A module that does not compile ends the test at once, as ERROR of the
// modules stage, even when the guest never says hello.
func TestFakeModuleErrorBeforeBoot(t *testing.T) {
	tg, vms := fakeTarget(t, &fakeAgent{silent: true}, "", func() modbuild.Set {
		return modbuild.Set{Err: errors.New("build module /m: m.c:3:1: error: expected ';'")}
	})
	r := RunTest(context.Background(), tg, fakeSpec(t, oneStep))
	if r.Outcome != result.Error || r.Stage != result.StageModules || !strings.Contains(r.Reason, "m.c:3:1: error") {
		t.Fatalf("got %s (stage %q): %s; want ERROR of the modules stage naming the compiler error", r.Outcome, r.Stage, r.Reason)
	}
	if len(*vms) != 1 || !(*vms)[0].stoppedByHost() {
		t.Errorf("the VM started for the test was not stopped")
	}
}

// A guest that stops answering in a step: TIMEOUT when its console holds
// no crash report, CRASH when it does; a VM that goes away is LOST.
func TestFakeTimeoutLostCrash(t *testing.T) {
	old := stepGrace
	stepGrace = 100 * time.Millisecond
	defer func() { stepGrace = old }()
	silent := func(*fakeVM, guest.Request) *guest.Response { return nil }
	gone := func(vm *fakeVM, _ guest.Request) *guest.Response {
		vm.end(qemu.Exit{Code: 1, Stderr: "qemu: terminating on signal 9"})
		return nil
	}
	lockup := "[    1.0] Run /init as init process\n[    5.1] watchdog: BUG: soft lockup - CPU#0 stuck for 4s! [insmod:27]\n[    5.1] Modules linked in: hello(O)\n"
	for _, c := range []struct {
		name    string
		answer  func(*fakeVM, guest.Request) *guest.Response
		console string
		want    result.Outcome
		reason  string
	}{
		{"silent guest", silent, "[    1.0] Run /init as init process\n", result.Timeout, "did not finish within 2s"},
		{"silent guest with a lockup report", silent, lockup, result.Crash, "soft lockup"},
		{"VM gone", gone, "[    1.0] Run /init as init process\n", result.Lost, "the VM went away during the step"},
		{"VM gone after a lockup report", gone, lockup, result.Crash, "soft lockup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg, _ := fakeTarget(t, &fakeAgent{answer: c.answer}, c.console, builtHello)
			r := RunTest(context.Background(), tg, fakeSpec(t, oneStep))
			if r.Outcome != c.want || !strings.Contains(r.Reason, c.reason) {
				t.Fatalf("got %s: %s; want %s naming %q", r.Outcome, r.Reason, c.want, c.reason)
			}
			if len(r.Steps) != 1 || r.Steps[0].Outcome != c.want || r.Line != r.Steps[0].Line {
				t.Errorf("the step in progress: %+v; want it %s and the test's line on it", r.Steps, c.want)
			}
		})
	}
}

// A step's time is bounded by what is left of the test's: a test timeout
// of 3s leaves less than a step's own 30s default.
func TestFakeDeadlines(t *testing.T) {
	reqs := make(chan guest.Request, 16)
	ok := func(*fakeVM, guest.Request) *guest.Response { return &guest.Response{} }
	tg, _ := fakeTarget(t, &fakeAgent{answer: ok, reqs: reqs}, "", builtHello)
	s := fakeSpec(t, "name: fake\ntimeout: 3s\nsteps:\n  - insmod: hello\n")
	r := RunTest(context.Background(), tg, s)
	if r.Outcome != result.Pass {
		t.Fatalf("got %s: %s", r.Outcome, r.Reason)
	}
	close(reqs)
	var step *guest.Request
	for req := range reqs {
		if req.Op == guest.OpInsmod {
			step = &req
		}
	}
	if step == nil || step.TimeoutMS <= 0 || step.TimeoutMS > 3000 {
		t.Fatalf("insmod request %+v: want a timeout within the test's 3s", step)
	}
	if step.Path != modbuild.GuestModuleDir+"/hello.ko" {
		t.Errorf("insmod path %q", step.Path)
	}
}

// A flavour the cell's kernel cannot have makes its tests SKIP with the
// reason, before anything is built.
func TestFlavourUnsupportedIsSkip(t *testing.T) {
	s := fakeSpec(t, oneStep)
	o := &Options{Out: t.TempDir(), Variant: "ubsan"}
	m, err := RunMatrix(context.Background(), o, []Cell{NewCell("5.4.302", arch.X86_64)}, []*spec.Spec{s})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Result(0, 0)
	if r.Outcome != result.Skip || !strings.Contains(r.Reason, "UBSAN_BOUNDS appeared in 5.7") || r.Cell != "5.4.302-x86_64+ubsan" {
		t.Fatalf("got %s on %s: %s; want SKIP on 5.4.302-x86_64+ubsan naming the reason", r.Outcome, r.Cell, r.Reason)
	}
	if m.Cells[0].Err != nil {
		t.Errorf("a skipped cell has an error: %v", m.Cells[0].Err)
	}
}

// On a kmemleak kernel a leak of a test's module found after its rmmod is
// CRASH of kind LEAK at that step; a leak of any other code is not the
// test's.
func TestFakeLeakScan(t *testing.T) {
	old := leakMinAge
	leakMinAge = 0
	defer func() { leakMinAge = old }()
	for _, c := range []struct {
		name, module string
		want         result.Outcome
	}{
		{"a test module's leak", "membugs", result.Crash},
		{"another module's leak", "other_mod", result.Pass},
	} {
		t.Run(c.name, func(t *testing.T) {
			report := "unreferenced object 0xffff888004c0e9c0 (size 64):\n  comm \"insmod\", pid 28, jiffies 4294668468\n  backtrace:\n" +
				"    [<ffffffff812bf5e4>] kmalloc_trace+0x24/0x90\n    [<ffffffffa0000155>] membugs_leak+0x15/0x40 [" + c.module + "]\n"
			scans := 0
			agent := &fakeAgent{answer: func(_ *fakeVM, req guest.Request) *guest.Response {
				switch {
				case req.Op == guest.OpWrite && req.Path == kmemleakFile && string(req.Data) == "scan":
					scans++
				case req.Op == guest.OpRead && req.Path == kmemleakFile && scans == 2:
					return &guest.Response{Data: []byte(report)}
				}
				return &guest.Response{}
			}}
			tg, _ := fakeTarget(t, agent, "", func() modbuild.Set {
				return modbuild.Set{Modules: map[string]string{"membugs": "/dev/null"}}
			})
			tg.Options.Variant = "kmemleak"
			r := RunTest(context.Background(), tg, fakeSpec(t, "name: fake\nsteps:\n  - insmod: membugs\n  - rmmod: membugs\n"))
			if r.Outcome != c.want {
				t.Fatalf("got %s: %s; want %s", r.Outcome, r.Reason, c.want)
			}
			if c.want == result.Crash {
				st := r.Steps[1]
				if st.Outcome != result.Crash || len(st.Reports) != 1 || st.Reports[0].Kind != klog.KindLeak ||
					!strings.Contains(r.Reason, "memory leak in membugs_leak (64 bytes)") {
					t.Errorf("step 2 %+v, reason %q; want the LEAK at the rmmod step", st, r.Reason)
				}
			}
		})
	}
}

// A test that passed and left the guest as it found it hands its VM to the
// next test of the target; a test that fails in a kept VM runs again in a
// VM of its own, whose verdict counts; a state that changed, or --isolate,
// means a VM of its own.
func TestFakeKeptVM(t *testing.T) {
	// The step fails on a VM that has run a test before.
	ran := map[*fakeVM]int{}
	var mu sync.Mutex
	answer := func(vm *fakeVM, req guest.Request) *guest.Response {
		mu.Lock()
		defer mu.Unlock()
		if req.Op != guest.OpInsmod {
			return &guest.Response{}
		}
		ran[vm]++
		if req.Params == "picky" && ran[vm] > 1 {
			return &guest.Response{Errno: "EEXIST"}
		}
		return &guest.Response{}
	}
	agent := &fakeAgent{answer: answer, sameState: true}
	tg, vms := fakeTarget(t, agent, "", builtHello)
	a := fakeSpec(t, "name: a\nsteps:\n  - insmod: hello\n")
	b := fakeSpec(t, "name: b\nsteps:\n  - insmod: hello\n")
	picky := fakeSpec(t, "name: picky\nsteps:\n  - insmod: hello\n    params: picky\n")
	ctx := context.Background()

	ra, kept, _ := runTest(ctx, tg, a, nil, nil)
	if ra.Outcome != result.Pass || kept == nil || ra.ReusedAfter != "" {
		t.Fatalf("a: %s, kept %v, reused after %q; want PASS in a VM of its own, kept", ra.Outcome, kept != nil, ra.ReusedAfter)
	}
	rb, kept, _ := runTest(ctx, tg, b, kept, nil)
	if rb.Outcome != result.Pass || rb.ReusedAfter != "a" || len(*vms) != 1 {
		t.Fatalf("b: %s, reused after %q, %d VMs; want PASS in a's VM", rb.Outcome, rb.ReusedAfter, len(*vms))
	}
	if b, err := os.ReadFile(filepath.Join(ra.Dir, "qemu.exit")); err != nil || !strings.Contains(string(b), rb.Dir) {
		t.Errorf("a's qemu.exit = %q (%v); want it to say where the VM went", b, err)
	}
	rp, kept, _ := runTest(ctx, tg, picky, kept, nil)
	if rp.Outcome != result.Pass || rp.ReusedAfter != "" || len(*vms) != 2 {
		t.Fatalf("picky: %s (%s), reused after %q, %d VMs; want PASS when run again in a VM of its own", rp.Outcome, rp.Reason, rp.ReusedAfter, len(*vms))
	}
	if !(*vms)[0].stoppedByHost() {
		t.Errorf("the VM picky failed in was not stopped")
	}
	if !strings.HasPrefix(rp.FirstAttempt, "FAIL in the VM of b: ") || !strings.Contains(rp.FirstAttempt, "EEXIST") {
		t.Errorf("picky's first attempt = %q; want how it failed in b's VM", rp.FirstAttempt)
	}
	first := filepath.Join(rp.Dir, FirstAttemptDir)
	if _, err := os.Stat(filepath.Join(first, "attempt.json")); err != nil {
		t.Errorf("the first attempt's result is not kept: %v", err)
	}
	if dirs, err := verdict.RunDirs(filepath.Dir(rp.Dir)); err != nil || strings.Contains(strings.Join(dirs, " "), first) {
		t.Errorf("RunDirs = %v, %v; want the first attempt left out (it is not a test of its own)", dirs, err)
	}
	kept.close()

	// A guest whose state changes: every test has a VM of its own.
	agent.sameState = false
	tg, vms = fakeTarget(t, agent, "", builtHello)
	_, kept, _ = runTest(ctx, tg, a, nil, nil)
	if kept != nil {
		t.Errorf("a VM whose guest changed was kept")
	}
	// No test left that could use the VM: its state is not asked for.
	reqs := make(chan guest.Request, 16)
	agent.sameState, agent.reqs = true, reqs
	tg, _ = fakeTarget(t, agent, "", builtHello)
	_, kept, judged := runTest(ctx, tg, a, nil, func() bool { return false })
	agent.reqs = nil
	close(reqs)
	var ops []string
	for req := range reqs {
		ops = append(ops, string(req.Op))
	}
	if kept != nil || judged || strings.Contains(strings.Join(ops, " "), string(guest.OpState)) {
		t.Errorf("last test: kept %v, judged %v, requests %v; want no state request, the VM shut down", kept != nil, judged, ops)
	}
	// --isolate: none is kept either.
	agent.sameState = true
	tg, _ = fakeTarget(t, agent, "", builtHello)
	tg.Options.Isolate = true
	if _, kept, _ = runTest(ctx, tg, a, nil, nil); kept != nil {
		t.Errorf("a VM was kept under --isolate")
	}
	_ = vms
}

// While modules still build after the guest's hello, the host has the
// agent start its module helper once (an insmod of no file, marked aux),
// before copying the modules; the kernel records that request collected
// are the first step's. Modules built before the hello get no warm-up.
func TestFakeWarmUp(t *testing.T) {
	for _, slow := range []bool{true, false} {
		var mu sync.Mutex
		var ops []string
		answer := func(_ *fakeVM, req guest.Request) *guest.Response {
			mu.Lock()
			ops = append(ops, fmt.Sprintf("%s %s aux=%v", req.Op, req.Path, req.Aux))
			mu.Unlock()
			if req.Path == boot.WarmUpPath {
				return &guest.Response{Errno: "ENOENT", Records: []klog.Record{{Seq: 40, Level: 6, Text: "logged before the first step"}}}
			}
			return &guest.Response{Records: []klog.Record{{Seq: 42, Level: 6, Text: "Hello"}}}
		}
		build := builtHello
		if slow {
			build = func() modbuild.Set { time.Sleep(300 * time.Millisecond); return builtHello() }
		}
		tg, _ := fakeTarget(t, &fakeAgent{answer: answer}, "", build)
		step := "name: w\nsteps:\n  - insmod: hello\n    log: ['^Hello$']\n"
		if slow {
			step = "name: w\nsteps:\n  - insmod: hello\n    log: ['^logged before the first step$', '^Hello$']\n"
		}
		r := RunTest(context.Background(), tg, fakeSpec(t, step))
		mu.Lock()
		got := strings.Join(ops, "; ")
		mu.Unlock()
		warm := "insmod " + boot.WarmUpPath + " aux=true"
		if r.Outcome != result.Pass {
			t.Errorf("slow=%v: %s: %s; want PASS (the warm-up's records in the first step when there is one)", slow, r.Outcome, r.Reason)
		}
		if slow && !strings.HasPrefix(got, warm+"; insmod /lkm/") {
			t.Errorf("slow build: requests %q; want the warm-up first, then the step", got)
		}
		if !slow && strings.Contains(got, boot.WarmUpPath) {
			t.Errorf("modules built at once: requests %q; want no warm-up", got)
		}
	}
}
