package initramfs

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/qemu"
)

//go:embed child/lkmtest-child.c
var childSource []byte

// ChildName is the module helper's file name in HelperDir.
const ChildName = "lkmtest-child"

// Child returns the guest's module helper (child/lkmtest-child.c) for
// arch, compiled statically once per compiler and cached.
func Child(ctx context.Context, c *cache.Dir, arch qemu.Arch, log io.Writer) (string, error) {
	cc := "gcc"
	if !arch.Native() {
		cc = arch.Spec().CrossCC
	}
	id, err := cache.ToolID(cc)
	if err != nil {
		return "", fmt.Errorf("build the guest module helper: %s not found: install it with 'apt-get install %s' (or run 'make deps')", cc, arch.Spec().DebianCross)
	}
	key := cache.Key("child/v1", string(childSource), id, string(arch))
	dir, _, err := c.Ensure(ctx, "helpers", key, func(ctx context.Context, tmp string) error {
		src := filepath.Join(tmp, ChildName+".c")
		if err := os.WriteFile(src, childSource, 0o600); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-s", "-o", filepath.Join(tmp, ChildName), src)
		out, err := cmd.CombinedOutput()
		if err != nil {
			hint := ""
			if strings.Contains(string(out), "cannot find -lc") || strings.Contains(string(out), "stdio.h") {
				hint = " (the static C library is missing: 'apt-get install libc6-dev libc6-dev-arm64-cross', or run 'make deps')"
			}
			return fmt.Errorf("%s: %v%s\n%s", strings.Join(cmd.Args, " "), err, hint, out)
		}
		fmt.Fprintf(log, "built the guest module helper for %s\n", arch)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("build the guest module helper: %w", err)
	}
	return filepath.Join(dir, ChildName), nil
}
