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

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/spec"
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
	name := "shell"
	if s != nil {
		name = s.Name
	}
	dir := filepath.Join(t.Options.Out, t.Name(), "shell-"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var mods modbuild.Set
	cfg := boot.Config{Dir: dir}
	if s != nil {
		if mods = t.build(ctx, s, dir); mods.Err != nil {
			return fmt.Errorf("modules of %s: %w", s.File, mods.Err)
		}
		cfg.Memory, cfg.CPUs, cfg.Cmdline = s.Boot.Memory, s.Boot.CPUs, s.Boot.Cmdline
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer inR.Close()
	defer inW.Close()
	// The boot log goes to console.log only; the user sees the console
	// from the shell's start.
	sw := &switchWriter{}
	cfg.Console, cfg.Stdin = sw, inR
	sess, err := t.start(ctx, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := sess.Hello(ctx); err != nil {
		return fmt.Errorf("the guest agent did not start (%v); console log: %s", err, sess.Console)
	}
	if err := sess.Guest.Put(ctx, mods.Files()); err != nil {
		return err
	}
	var names []string
	for name := range mods.Modules {
		names = append(names, name+".ko")
	}
	sort.Strings(names)
	if sio.Note != nil {
		fmt.Fprintf(sio.Note, "lkmtest shell on %s: modules in %s: %v (not loaded); 'exit' or Ctrl-D powers the VM off\n", t.Name(), modbuild.GuestModuleDir, names)
	}
	sw.attach(sio.Out)
	resp, err := sess.Guest.Call(ctx, guest.Request{Op: guest.OpShell, Rows: sio.Rows, Cols: sio.Cols}, shellStartWait)
	if err == nil && resp.Error != "" {
		err = errors.New(resp.Error)
	}
	if err != nil {
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
	case <-sess.VM.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if exit := sess.VM.Wait(); !exit.Clean() {
		return fmt.Errorf("the VM ended badly: %s; console log: %s", exit, sess.Console)
	}
	return nil
}

// shellStartWait bounds the agent's answer to the shell request.
const shellStartWait = 30 * time.Second

// switchWriter discards what it is given until a writer is attached.
type switchWriter struct {
	mu sync.Mutex
	to io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.to != nil {
		_, _ = s.to.Write(p)
	}
	return len(p), nil
}

func (s *switchWriter) attach(w io.Writer) {
	s.mu.Lock()
	s.to = w
	s.mu.Unlock()
}
