// Package proc starts the host programs of lkmtest's builds (make, the
// compilers) so that they cannot outlive it: each runs in its own process
// group, cancelled as a whole, and is killed when lkmtest dies (a kill -9
// of lkmtest must not leave make writing into a cache entry the next run
// removes).
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
