package harness

import (
	"context"
	"errors"
	"fmt"

	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// KernelKey is one kernel a run would prepare, and its cache key.
type KernelKey struct {
	// Cell is the cell's label ("6.1.192-x86_64+debug").
	Cell string `json:"cell"`
	// Kernel is the kernel as asked, Release the source's version.
	Kernel  string `json:"kernel"`
	Release string `json:"release"`
	Arch    string `json:"arch"`
	Variant string `json:"variant,omitempty"`
	// Key is the kernel's cache key (kernels/<key> in the cache).
	Key string `json:"key"`
	// Cached is true when the cache already holds it built, Prepared
	// when it holds its prepared tree (kernels-prepared/, for 'lkmtest
	// build').
	Cached   bool `json:"cached"`
	Prepared bool `json:"prepared"`
}

// KernelKeys returns the cache keys of the kernels that a run of specs on
// cells with base's options would prepare (no specs: the cells' kernels): each cell's kernel and every
// kernel variant a spec's boot.config asks for (none is skipped that the
// run would build, and none is listed that it would skip), computed by the
// function a build uses (kbuild.KernelKey) but without building,
// downloading or unpacking anything (see kbuild.Identify). A CI cache of
// kernels keyed on them is invalid exactly when lkmtest would rebuild.
func KernelKeys(ctx context.Context, base *Options, cells []Cell, specs []*spec.Spec) ([]KernelKey, error) {
	vs := variants(specs)
	if len(specs) == 0 {
		vs = []string{""}
	}
	var out []KernelKey
	seen := map[string]bool{}
	for j := range cells {
		c := &cells[j]
		for _, v := range vs {
			if variantRuledOut(ctx, base, specs, c, v) != nil {
				continue
			}
			o, err := variantOptions(base, c, v)
			var skip *skipError
			if errors.As(err, &skip) {
				continue
			}
			if err != nil {
				return nil, err
			}
			src, err := kbuild.Identify(ctx, o.Cache, kbuild.SourceRequest{Kernel: o.Kernel, Local: o.KernelSrc, SHA256: o.KernelSHA256,
				Mirror: o.KernelMirror, DebianDir: o.DebianSrc})
			if err != nil {
				return nil, inStage(result.StageResolve, err)
			}
			req, err := requestFor(o, src)
			if err != nil {
				return nil, err
			}
			key, _, _, err := kbuild.KernelKey(ctx, o.Cache, req)
			if err != nil {
				return nil, fmt.Errorf("kernel %s %s: %w", src.Version, o.Arch, err)
			}
			if seen[key] {
				continue // two references to one fragment (lkmtest:debug and its file)
			}
			seen[key] = true
			rc := result.Cell{Kernel: c.Kernel, Release: src.Version, Arch: c.Arch, Variant: o.Variant}
			out = append(out, KernelKey{Cell: rc.Label(), Kernel: c.Kernel, Release: src.Version, Arch: c.Arch,
				Variant: o.Variant, Key: key, Cached: o.Cache.Exists("kernels", key), Prepared: o.Cache.Exists(kbuild.PreparedKind, key)})
		}
	}
	return out, nil
}
