package qemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// A VM can change hands: the process that started QEMU (its holder) pauses
// it, detaches (Detach) and gives another process what Adopt needs to run
// it from there: the agent channel's connection and the console's pipe (as
// file descriptors, over a unix socket) and a Handoff. The holder stays
// QEMU's parent: it waits for QEMU and tells the new owner how it ended
// (Holder). QMP is not handed over: the new owner connects to the same
// socket, which QEMU serves again once the holder has left it.

// Handoff describes a detached VM.
type Handoff struct {
	// Pid is QEMU's process ID.
	Pid int `json:"pid"`
	// SocketDir holds the VM's QMP and agent sockets (the holder keeps it).
	SocketDir string `json:"socket_dir"`
}

// Holder is, for an adopted VM, the process that started its QEMU.
type Holder interface {
	// Wait blocks until QEMU has exited and returns its exit code (-1:
	// unknown) and its standard error.
	Wait() (code int, stderr string)
	// Kill asks the holder to kill QEMU.
	Kill()
}

// Pause stops the guest's CPUs (QMP stop); connect's cont, after a
// handoff, resumes them.
func (vm *VM) Pause() error { return vm.qmpDo("stop", `{"execute":"stop"}`) }

// Detach lets go of a started (and paused) VM with an agent channel: it
// stops reading the console, leaves QMP and returns the agent channel's
// connection and the console's pipe, in that order, for Adopt in another
// process. The caller closes them once sent; Wait and Kill still work, Stop
// only kills.
func (vm *VM) Detach() (Handoff, []*os.File, error) {
	vm.mu.Lock()
	agent, mon, stdout := vm.agent, vm.mon, vm.stdout
	vm.mu.Unlock()
	uc, ok := agent.(*net.UnixConn)
	if !ok || stdout == nil || vm.cmd == nil {
		return Handoff{}, nil, errors.New("detach: not a VM started here with an agent channel")
	}
	// The console reader returns at the deadline, having written what it
	// read; nothing is left in its buffer.
	if err := stdout.SetReadDeadline(time.Now()); err != nil {
		return Handoff{}, nil, fmt.Errorf("detach: console: %w", err)
	}
	vm.console.Wait()
	if err := stdout.SetReadDeadline(time.Time{}); err != nil {
		return Handoff{}, nil, fmt.Errorf("detach: console: %w", err)
	}
	af, err := uc.File()
	if err != nil {
		return Handoff{}, nil, fmt.Errorf("detach: agent channel: %w", err)
	}
	vm.mu.Lock()
	vm.mon, vm.agent, vm.stdout = nil, nil, nil
	vm.mu.Unlock()
	if mon != nil {
		_ = mon.Disconnect()
	}
	_ = agent.Close()
	return Handoff{Pid: vm.cmd.Process.Pid, SocketDir: vm.opts.SocketDir}, []*os.File{af, stdout}, nil
}

// Adopt runs a VM another process detached (Detach): files are its agent
// channel's connection and console pipe, h says where its sockets are and
// holder waits for it. fns must describe the VM as it was started (the
// console writer and timeout are this process's). Adopt connects to QMP and
// resumes the guest; the caller must call Wait.
func Adopt(ctx context.Context, a arch.Arch, h Handoff, files []*os.File, holder Holder, fns ...Fn) (*VM, error) {
	if len(files) != 2 {
		return nil, fmt.Errorf("adopt: %d descriptors, want the agent channel and the console", len(files))
	}
	defer files[0].Close() // FileConn dups it
	o, err := NewOptions(a, append(fns, WithSocketDir(h.SocketDir), WithAgent())...)
	if err != nil {
		files[1].Close()
		return nil, err
	}
	o.Incoming, o.RAMFile = "", "" // restored by the holder already
	agent, err := net.FileConn(files[0])
	if err != nil {
		files[1].Close()
		return nil, fmt.Errorf("adopt: agent channel: %w", err)
	}
	vm := &VM{opts: o, proc: remoteProcess{holder}, done: make(chan struct{}), rearm: make(chan struct{}, 1)}
	if err := vm.run(ctx, time.Now(), closingReader{files[1]}, agent); err != nil {
		return nil, fmt.Errorf("qemu: adopt: %w", err)
	}
	return vm, nil
}

// closingReader closes its file at the end (the console copy's end).
type closingReader struct{ f *os.File }

func (r closingReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if err != nil {
		r.f.Close()
	}
	return n, err
}

// remoteProcess is a QEMU another process started (Adopt).
type remoteProcess struct{ h Holder }

func (p remoteProcess) wait() (int, string) { return p.h.Wait() }
func (p remoteProcess) kill()               { p.h.Kill() }
