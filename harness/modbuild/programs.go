package modbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
)

// StaticC compiles one C source file into a static program for arch
// (gcc, or the arch's cross compiler), cached by source, compiler and
// arch, and returns the binary. srcPath names the source in the compiler's
// messages.
func StaticC(ctx context.Context, c *cache.Dir, a arch.Arch, name string, code []byte, srcPath string) (string, error) {
	cc := a.CC()
	id, err := cache.ToolID(cc)
	if err != nil {
		return "", &hostdeps.MissingTool{Tool: cc, Package: a.CompilerPackage(), Err: err}
	}
	dir, _, err := c.Ensure(ctx, "helpers", cache.Key("static-c/v1", name, string(code), id, string(a)), func(ctx context.Context, tmp string) error {
		src := filepath.Join(tmp, name+".c")
		if err := os.WriteFile(src, code, 0o600); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-Wall", "-s", "-o", filepath.Join(tmp, name), src, "-lpthread")
		out, err := cmd.CombinedOutput()
		if err != nil {
			hint := ""
			if strings.Contains(string(out), "cannot find -lc") || strings.Contains(string(out), "stdio.h") {
				hint = " (the static C library: " + (&hostdeps.MissingTool{Tool: "libc.a", Package: a.LibcPackage()}).Error() + ")"
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
