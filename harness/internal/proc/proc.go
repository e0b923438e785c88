package proc

import (
	"context"
	"fmt"
	"io"
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
