package kbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/internal/proc"
)

// run logs and runs a command, sending its output to log.
func run(ctx context.Context, log io.Writer, dir string, name string, args ...string) error {
	fmt.Fprintf(log, "$ %s\n", strings.Join(append([]string{name}, args...), " "))
	return proc.Run(ctx, log, dir, name, args...)
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
