package modbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/spec"
)

// helpers compiles the spec's C helpers statically for the arch (cached
// by source content and compiler) and returns name → binary.
func (b *Builder) helpers(ctx context.Context, s *spec.Spec) (map[string]string, error) {
	out := map[string]string{}
	for _, h := range s.Helpers {
		src := filepath.Join(s.Dir, h)
		code, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("helper %s: %w", src, err)
		}
		name := strings.TrimSuffix(filepath.Base(h), ".c")
		bin, err := StaticC(ctx, b.Cache, b.Arch, name, code, src)
		if err != nil {
			return nil, fmt.Errorf("helper: %w", err)
		}
		out[name] = bin
	}
	return out, nil
}
