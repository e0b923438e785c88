package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/initramfs"
)

// HelperDir is where a test's helper programs are installed in the guest.
const HelperDir = "/lkmtest/helpers"

// buildHelpers compiles the spec's C helpers statically for the target's
// arch (cached by source content and compiler) and returns name → binary.
func buildHelpers(ctx context.Context, t *Target, s *spec.Spec) (map[string]string, error) {
	out := map[string]string{}
	for _, h := range s.Helpers {
		src := filepath.Join(s.Dir, h)
		code, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("helper %s: %w", src, err)
		}
		name := strings.TrimSuffix(filepath.Base(h), ".c")
		bin, err := initramfs.StaticC(ctx, t.Options.Cache, t.Options.Arch, name, code, src)
		if err != nil {
			return nil, fmt.Errorf("helper: %w", err)
		}
		out[name] = bin
	}
	return out, nil
}
