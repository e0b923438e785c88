package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"

	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/digitalocean/go-qemu/qmp"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
)

// VM is a running QEMU process.
type VM struct {
	opts    *Options  // what the VM was started with
	started time.Time // when QEMU was started

	cmd     *exec.Cmd
	proc    process  // QEMU itself: cmd, or a holder's (Adopt)
	stdout  *os.File // the console pipe (nil once handed off)
	mon     *qmp.SocketMonitor
	agent   net.Conn
	stderr  bytes.Buffer
	console sync.WaitGroup
	done    chan struct{}
	rearm   chan struct{} // Rearm's signal to watch

	mu       sync.Mutex
	deadline time.Time // the timeout's end (zero: none)
	exit     Exit
	panicked bool
	shutdown string
	stopped  bool
	timedOut bool
}

// Start boots a VM and returns once its CPUs run. The caller must call Wait.
func Start(ctx context.Context, a arch.Arch, fns ...Fn) (*VM, error) {
	o, err := NewOptions(a, fns...)
	if err != nil {
		return nil, err
	}
	argv := o.Cmdline()
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("qemu: %w", &hostdeps.MissingTool{Tool: argv[0], Package: a.Spec().DebianQEMU, Err: err})
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	vm := &VM{opts: o, cmd: cmd, proc: localProcess{cmd}, done: make(chan struct{}), rearm: make(chan struct{}, 1)}
	cmd.Stderr = &lockedWriter{mu: &vm.mu, w: &vm.stderr}
	cmd.Stdin = o.Stdin
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdout := pipe.(*os.File)
	vm.stdout = stdout
	if o.Incoming != "" {
		state, err := os.Open(o.Incoming)
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		defer state.Close()                // QEMU has its own copy once started
		cmd.ExtraFiles = []*os.File{state} // descriptor 3: incomingFD
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	if err := vm.run(ctx, started, stdout, nil); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	return vm, nil
}

// run supervises a started QEMU (started then): it copies the console,
// reaps the process, connects (agent: a handed-over agent channel, or
// nil) and resumes the guest, then enforces the timeout. On an error QEMU
// has been killed and reaped.
func (vm *VM) run(ctx context.Context, started time.Time, console io.Reader, agent net.Conn) error {
	vm.started = started
	if vm.opts.Timeout > 0 {
		vm.deadline = started.Add(vm.opts.Timeout)
	}
	vm.console.Add(1)
	go vm.copyConsole(console)
	go vm.reap()
	if err := vm.connect(ctx, agent); err != nil {
		if agent != nil {
			agent.Close()
		}
		vm.Kill()
		<-vm.done
		return fmt.Errorf("%w (%s)", err, vm.ended().String())
	}
	go vm.watch(ctx)
	return nil
}

// connect attaches QMP and the agent channel (agent, when a holder handed
// it over) while the CPUs are stopped (-S, or paused for a handoff), then
// resumes them.
func (vm *VM) connect(ctx context.Context, agent net.Conn) error {
	deadline := time.Now().Add(20 * time.Second)
	var (
		mon *qmp.SocketMonitor
		err error
	)
	for {
		mon, err = qmp.NewSocketMonitor("unix", vm.opts.qmpSocket(), 2*time.Second)
		if err == nil {
			break
		}
		select {
		case <-vm.done:
			return fmt.Errorf("exited before its monitor came up")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("connect to QMP monitor %s: %w", vm.opts.qmpSocket(), err)
		}
	}
	if err := mon.Connect(); err != nil {
		return fmt.Errorf("QMP handshake: %w", err)
	}
	vm.mu.Lock()
	vm.mon = mon
	vm.mu.Unlock()
	events, err := mon.Events(context.Background())
	if err != nil {
		return fmt.Errorf("QMP events: %w", err)
	}
	go vm.drainEvents(events)
	if vm.opts.Agent {
		if agent == nil {
			agent, err = net.DialTimeout("unix", vm.opts.agentSocket(), 5*time.Second)
			if err != nil {
				return fmt.Errorf("connect to agent channel: %w", err)
			}
		}
		vm.mu.Lock()
		vm.agent = agent
		vm.mu.Unlock()
	}
	if vm.opts.Incoming != "" {
		if vm.opts.RAMFile != "" {
			if err := vm.qmpDo("migrate-set-capabilities x-ignore-shared", ignoreSharedCmd); err != nil {
				return err
			}
			if err := vm.qmpDo("migrate-incoming", migrateCmd("migrate-incoming", incomingFD)); err != nil {
				return err
			}
		}
		if err := vm.waitMigration(30 * time.Second); err != nil {
			return fmt.Errorf("restore %s: %w", vm.opts.Incoming, err)
		}
	}
	if _, err := vm.qmpRun(`{"execute":"cont"}`, 10*time.Second); err != nil {
		return fmt.Errorf("QMP cont: %w", err)
	}
	return nil
}

// waitMigration polls query-migrate until the migration in progress (in
// either direction) completes.
func (vm *VM) waitMigration(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		b, err := vm.qmpRun(`{"execute":"query-migrate"}`, 5*time.Second)
		if err != nil {
			return err
		}
		var r struct {
			Return struct {
				Status    string `json:"status"`
				ErrorDesc string `json:"error-desc"`
			} `json:"return"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		switch r.Return.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("migration %s: %s", r.Return.Status, r.Return.ErrorDesc)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("migration not completed within %s (status %q)", timeout, r.Return.Status)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// SaveState stops the guest and writes its whole state (RAM, devices) to
// path, for WithIncoming. The VM stays paused; Stop it afterwards.
func (vm *VM) SaveState(path string) error {
	if _, err := vm.qmpRun(`{"execute":"stop"}`, 10*time.Second); err != nil {
		return fmt.Errorf("QMP stop: %w", err)
	}
	if vm.opts.RAMFile != "" && vm.opts.RAMShared {
		if err := vm.qmpDo("migrate-set-capabilities x-ignore-shared", ignoreSharedCmd); err != nil {
			return err
		}
	}
	if err := vm.qmpDo("migrate", migrateCmd("migrate", "exec:cat > "+shellQuote(path))); err != nil {
		return err
	}
	return vm.waitMigration(2 * time.Minute)
}

// qmpDo runs a QMP command whose answer must not be an error; what names
// it in the error.
func (vm *VM) qmpDo(what, cmd string) error {
	b, err := vm.qmpRun(cmd, 10*time.Second)
	if err == nil && bytes.Contains(b, []byte(`"error"`)) {
		err = fmt.Errorf("%s", b)
	}
	if err != nil {
		return fmt.Errorf("QMP %s: %w", what, err)
	}
	return nil
}

// drainEvents records the events that tell how the VM ends; it runs in its own
// goroutine so that a command reply is never stuck behind an event.
func (vm *VM) drainEvents(events <-chan qmp.Event) {
	for ev := range events {
		vm.mu.Lock()
		switch ev.Event {
		case "GUEST_PANICKED":
			vm.panicked = true
		case "SHUTDOWN":
			if r, ok := ev.Data["reason"].(string); ok {
				vm.shutdown = r
			}
			if r := vm.shutdown; r == "guest-panic" {
				vm.panicked = true
			}
		}
		vm.mu.Unlock()
	}
}

func (vm *VM) qmpRun(cmd string, timeout time.Duration) ([]byte, error) {
	type reply struct {
		b   []byte
		err error
	}
	ch := make(chan reply, 1)
	go func() {
		vm.mu.Lock()
		mon := vm.mon
		vm.mu.Unlock()
		b, err := mon.Run([]byte(cmd))
		ch <- reply{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-vm.done:
		return nil, fmt.Errorf("qemu exited")
	case <-time.After(timeout):
		return nil, fmt.Errorf("no reply to %s within %s", cmd, timeout)
	}
}

// Agent is the host end of the guest agent's channel (nil without WithAgent).
func (vm *VM) Agent() net.Conn {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.agent
}

// Done is closed when QEMU has exited and its console is fully read.
func (vm *VM) Done() <-chan struct{} { return vm.done }

func (vm *VM) reap() {
	code, stderr := vm.proc.wait()
	vm.console.Wait()
	vm.mu.Lock()
	vm.stderr.WriteString(stderr)
	vm.exit = Exit{
		Code: code, Panicked: vm.panicked, Shutdown: vm.shutdown,
		TimedOut: vm.timedOut, Stopped: vm.stopped,
		Stderr: vm.stderr.String(), Duration: time.Since(vm.started),
	}
	// pvpanic with -action panic=exit-failure exits 1 without a SHUTDOWN
	// event and silently; QEMU's own errors also exit 1, with a message.
	if code == 1 && !vm.stopped && !vm.timedOut && vm.shutdown == "" && strings.TrimSpace(vm.stderr.String()) == "" {
		vm.exit.Panicked = true
	}
	mon, agent := vm.mon, vm.agent
	vm.mu.Unlock()
	if mon != nil {
		_ = mon.Disconnect()
	}
	if agent != nil {
		_ = agent.Close()
	}
	close(vm.done)
}

// watch enforces the timeout (as Rearm moves it) and the context.
func (vm *VM) watch(ctx context.Context) {
	for {
		vm.mu.Lock()
		deadline := vm.deadline
		vm.mu.Unlock()
		var timeout <-chan time.Time
		var t *time.Timer
		if !deadline.IsZero() {
			t = time.NewTimer(time.Until(deadline))
			timeout = t.C
		}
		select {
		case <-vm.done:
		case <-ctx.Done():
			vm.Stop()
		case <-timeout:
			vm.mu.Lock()
			vm.timedOut = true
			vm.mu.Unlock()
			vm.Stop()
		case <-vm.rearm:
			if t != nil {
				t.Stop()
			}
			continue
		}
		if t != nil {
			t.Stop()
		}
		return
	}
}

// Rearm gives the VM d more from now before its timeout stops it (0: no
// timeout): a VM kept running for another test gets that test's limit.
func (vm *VM) Rearm(d time.Duration) {
	vm.mu.Lock()
	vm.deadline = time.Time{}
	if d > 0 {
		vm.deadline = time.Now().Add(d)
	}
	vm.mu.Unlock()
	select {
	case vm.rearm <- struct{}{}:
	default:
	}
}

// Stop ends the VM: a QMP quit, then SIGKILL if QEMU is still there after a second.
func (vm *VM) Stop() {
	vm.mu.Lock()
	vm.stopped = true
	vm.mu.Unlock()
	select {
	case <-vm.done:
		return
	default:
	}
	vm.mu.Lock()
	mon := vm.mon
	vm.mu.Unlock()
	if mon != nil {
		_, _ = vm.qmpRun(`{"execute":"quit"}`, time.Second)
	}
	select {
	case <-vm.done:
	case <-time.After(time.Second):
		vm.Kill()
	}
}

// Kill sends SIGKILL to QEMU.
func (vm *VM) Kill() { vm.proc.kill() }

// process is QEMU's process as a VM waits for and kills it.
type process interface {
	// wait returns QEMU's exit code (-1: unknown) and what it wrote on
	// standard error that the VM did not see itself.
	wait() (code int, stderr string)
	kill()
}

// localProcess is a QEMU this process started.
type localProcess struct{ cmd *exec.Cmd }

func (p localProcess) wait() (int, string) {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &ee):
		return ee.ExitCode(), ""
	}
	return -1, ""
}

func (p localProcess) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// Wait blocks until QEMU has exited and returns how it ended.
func (vm *VM) Wait() Exit {
	<-vm.done
	return vm.ended()
}

// ended is how the VM ended (valid once done is closed).
func (vm *VM) ended() Exit {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.exit
}
