package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// HelperDir is where a test's helper programs are installed in the guest.
const HelperDir = "/lkmtest/helpers"

// buildHelpers compiles the spec's C helpers statically for the target's
// arch (cached by source content and compiler) and returns name → binary.
func buildHelpers(ctx context.Context, t *Target, s *spec.Spec) (map[string]string, error) {
	out := map[string]string{}
	if len(s.Helpers) == 0 {
		return out, nil
	}
	arch := t.Options.Arch
	cc := "gcc"
	if !arch.Native() {
		cc = arch.Spec().CrossCC
	}
	id, err := cache.ToolID(cc)
	if err != nil {
		return nil, fmt.Errorf("build helpers: %s not found: install it with 'apt-get install %s' (or run 'make deps')", cc, arch.Spec().DebianCross)
	}
	for _, h := range s.Helpers {
		src := filepath.Join(s.Dir, h)
		code, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("helper %s: %w", src, err)
		}
		name := strings.TrimSuffix(filepath.Base(h), ".c")
		key := cache.Key("helper/v1", string(code), id, string(arch))
		dir, _, err := t.Options.Cache.Ensure(ctx, "helpers", key, func(ctx context.Context, tmp string) error {
			c := filepath.Join(tmp, name+".c")
			if err := os.WriteFile(c, code, 0o600); err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-Wall", "-o", filepath.Join(tmp, name), c, "-lpthread")
			msg, err := cmd.CombinedOutput()
			if err != nil {
				// Point the compiler's messages at the user's file.
				return fmt.Errorf("build helper %s: %v\n%s", src, err, strings.ReplaceAll(string(msg), c, src))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out[name] = filepath.Join(dir, name)
	}
	return out, nil
}
