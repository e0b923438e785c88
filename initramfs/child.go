package initramfs

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
)

//go:embed child/lkmtest-child.c
var childSource []byte

//go:embed child/chrt.c
var chrtSource []byte

// Chrt returns the guest's chrt (child/chrt.c: Debian's busybox has none)
// for arch, compiled statically once per compiler and cached.
func Chrt(ctx context.Context, c *cache.Dir, arch arch.Arch) (string, error) {
	p, err := StaticC(ctx, c, arch, "chrt", chrtSource, "initramfs/child/chrt.c")
	if err != nil {
		return "", fmt.Errorf("build the guest's chrt: %w", err)
	}
	return p, nil
}

// ChildName is the module helper's file name in HelperDir.
const ChildName = "lkmtest-child"

// Child returns the guest's module helper (child/lkmtest-child.c) for
// arch, compiled statically once per compiler and cached.
func Child(ctx context.Context, c *cache.Dir, arch arch.Arch) (string, error) {
	p, err := StaticC(ctx, c, arch, ChildName, childSource, "initramfs/child/"+ChildName+".c")
	if err != nil {
		return "", fmt.Errorf("build the guest module helper: %w", err)
	}
	return p, nil
}

// StaticC compiles one C source file into a static program for arch
// (gcc, or the arch's cross compiler), cached by source, compiler and
// arch, and returns the binary. srcPath names the source in the compiler's
// messages.
func StaticC(ctx context.Context, c *cache.Dir, arch arch.Arch, name string, code []byte, srcPath string) (string, error) {
	cc := arch.CC()
	id, err := cache.ToolID(cc)
	if err != nil {
		return "", fmt.Errorf("%s not found: install it with 'apt-get install %s' (or run 'make deps')", cc, arch.Spec().DebianCross)
	}
	dir, _, err := c.Ensure(ctx, "helpers", cache.Key("static-c/v1", name, string(code), id, string(arch)), func(ctx context.Context, tmp string) error {
		src := filepath.Join(tmp, name+".c")
		if err := os.WriteFile(src, code, 0o600); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-Wall", "-s", "-o", filepath.Join(tmp, name), src, "-lpthread")
		out, err := cmd.CombinedOutput()
		if err != nil {
			hint := ""
			if strings.Contains(string(out), "cannot find -lc") || strings.Contains(string(out), "stdio.h") {
				hint = " (the static C library is missing: 'apt-get install libc6-dev libc6-dev-arm64-cross', or run 'make deps')"
			}
			// Point the compiler's messages at the user's file.
			return fmt.Errorf("build %s: %v%s\n%s", srcPath, err, hint, strings.ReplaceAll(string(out), src, srcPath))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}
