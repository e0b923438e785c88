package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/qemu"
)

// ShellIO connects an interactive shell in the guest to the user.
type ShellIO struct {
	// In is what the user types; at its end the shell gets Ctrl-D.
	In io.Reader
	// Out receives the serial console once the shell runs.
	Out io.Writer
	// Note receives lkmtest's own messages (where the modules are).
	Note io.Writer
	// Rows and Cols are the terminal's size (0: 24 x 80).
	Rows, Cols uint16
}

// Shell starts the VM of test s (nil: no test; a plain VM) with its
// modules in /lkm and its helpers on the PATH, and runs an interactive
// shell on the serial console until the shell exits; the VM then powers
// off. Modules are copied in, never loaded: the user runs insmod.
func Shell(ctx context.Context, t *Target, s *spec.Spec, sio ShellIO) error {
	o := t.Options
	name := "shell"
	if s != nil {
		name = s.Name
	}
	dir := filepath.Join(o.Out, t.Name(), "shell-"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	mods := builtModules{kos: map[string]string{}}
	boot := spec.Boot{}
	if s != nil {
		if mods = buildModules(ctx, t, s, dir); mods.err != nil {
			return fmt.Errorf("modules of %s: %w", s.File, mods.err)
		}
		boot = s.Boot
	}
	console, err := cache.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		return err
	}
	defer console.Close()
	// The boot log goes to console.log only; the user sees the console
	// from the shell's start.
	sw := &switchWriter{w: console}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer inR.Close()
	defer inW.Close()
	sockDir, err := socketDir("vm")
	if err != nil {
		return err
	}
	defer releaseSocketDir(sockDir)
	fns := []qemu.Fn{
		qemu.WithKernel(t.Kernel.Image), qemu.WithInitramfs(t.Initramfs), qemu.WithAccel(t.Accel.Accel),
		qemu.WithSocketDir(sockDir), qemu.WithAgent(), qemu.WithConsole(sw), qemu.WithStdin(inR),
		qemu.WithMemory(boot.Memory), qemu.WithCPUs(boot.CPUs), qemu.WithAppend(boot.Cmdline...),
	}
	vm, restored, err := startVM(ctx, t, fns, dir, console)
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	defer func() {
		vm.Stop()
		vm.Wait()
	}()
	transcript, _ := cache.Create(filepath.Join(dir, "agent.log"))
	if transcript != nil {
		defer transcript.Close()
	}
	sess := newSession(vm, transcript)
	if !restored {
		var hello guest.Hello
		if err := sess.next(ctx, &hello, bootTimeout); err != nil {
			return fmt.Errorf("the guest agent did not start (%v); console log: %s", err, console.Name())
		}
	}
	id := 0
	call := func(req guest.Request) error {
		id++
		req.ID = id
		if err := sess.send(req); err != nil {
			return err
		}
		var resp guest.Response
		if err := sess.next(ctx, &resp, 30*time.Second); err != nil {
			return err
		}
		if resp.Error != "" {
			return errors.New(resp.Error)
		}
		return nil
	}
	if err := copyIn(call, mods); err != nil {
		return err
	}
	var names []string
	for name := range mods.kos {
		names = append(names, name+".ko")
	}
	sort.Strings(names)
	if sio.Note != nil {
		fmt.Fprintf(sio.Note, "lkmtest shell on %s: modules in /lkm: %v (not loaded); 'exit' or Ctrl-D powers the VM off\n", t.Name(), names)
	}
	sw.attach(sio.Out)
	if err := call(guest.Request{Op: guest.OpShell, Rows: sio.Rows, Cols: sio.Cols}); err != nil {
		return fmt.Errorf("start the shell: %w", err)
	}
	go func() {
		if sio.In != nil {
			_, _ = io.Copy(inW, sio.In)
		}
		// End of input: Ctrl-D, as a terminal would send it; twice,
		// because gosh reports a failed last command at the first one and
		// reads on.
		_, _ = inW.Write([]byte{4, 4})
	}()
	select {
	case <-vm.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if exit := vm.Wait(); !exit.Clean() {
		return fmt.Errorf("the VM ended badly: %s; console log: %s", exit, console.Name())
	}
	return nil
}

// switchWriter writes to w, and also to a second writer once attached.
type switchWriter struct {
	mu    sync.Mutex
	w, to io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.to != nil {
		_, _ = s.to.Write(p)
	}
	return s.w.Write(p)
}

func (s *switchWriter) attach(w io.Writer) {
	s.mu.Lock()
	s.to = w
	s.mu.Unlock()
}
