package kbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/lkmtest/lkmtest/harness/cache"
)

// run logs and runs a command, sending its output to log.
func run(ctx context.Context, log io.Writer, dir string, name string, args ...string) error {
	fmt.Fprintf(log, "$ %s\n", strings.Join(append([]string{name}, shown(args)...), " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	// Its own process group (cancelled as a whole), and killed with
	// lkmtest: a "kill -9" of lkmtest must not leave make writing into a
	// cache entry the next run removes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// shown abbreviates the probe-memo override in logged command lines.
func shown(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "try-run=") {
			a = "try-run=<lkmtest probe memo, see harness/kbuild/probe.go>"
		}
		out[i] = a
	}
	return out
}

// output runs a command and returns its standard output.
func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	b, err := cmd.Output()
	return string(b), err
}

// CompilerVersion is the first line of "<cc> --version" (part of cache
// keys), remembered per compiler binary in c.
func CompilerVersion(ctx context.Context, c *cache.Dir, cc string) (string, error) {
	id, err := cache.ToolID(cc)
	if err != nil {
		return "", fmt.Errorf("%s not found: %w", cc, err)
	}
	return c.Memo("version:"+id, func() (string, error) {
		out, err := output(ctx, cc, "--version")
		if err != nil {
			return "", fmt.Errorf("%s not working: %w", cc, err)
		}
		line, _, _ := strings.Cut(out, "\n")
		return strings.TrimSpace(line), nil
	})
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
