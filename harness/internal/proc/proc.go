package proc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// Command is exec.CommandContext with that process-group discipline.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// Run runs name with args in dir, its output (both streams) to out. A
// cancelled ctx is returned as ctx.Err(); another failure names the
// program.
func Run(ctx context.Context, out io.Writer, dir, name string, args ...string) error {
	cmd := Command(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// maxDetachedLog is the size past which Detach starts a log anew.
const maxDetachedLog = 1 << 20

// Detach starts name with args as lkmtest's own background work, which
// outlives this process (a standby VM's holder, a precompiled header's
// build): in a session of its own, its output appended to log (started
// anew once over 1 MB), extra as descriptors 3, 4... It does not wait.
// Unlike Command, it is neither killed with lkmtest nor cancelled.
func Detach(log, name string, args []string, extra ...*os.File) error {
	if fi, err := os.Stat(log); err == nil && fi.Size() > maxDetachedLog {
		_ = os.Remove(log)
	}
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return cmd.Process.Release()
}
