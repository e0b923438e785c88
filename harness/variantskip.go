package harness

import (
	"context"

	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// variantRuledOut says why each spec of the boot.config variant v cannot
// run on cell c (by its index in specs), or nil when one may and the
// variant is to be prepared, as it always is for the cell's own kernel
// (v ""). It judges before the kernel is built, on what is known of it
// then: the arch, and the release (the cell's once a kernel of it is
// prepared, else the one its source names, read as kbuild.Identify reads
// it for cache keys, without unpacking). A variant ruled out is not built
// for the cell (an arm64-only fragment is not configured for x86_64, nor
// a 6.x layout's kernel built on 5.4) and its specs are SKIP; KernelKeys
// leaves it out alike, so a CI cache keyed on its keys holds what a run
// builds.
func variantRuledOut(ctx context.Context, base *Options, specs []*spec.Spec, c *Cell, v string) map[int]string {
	if v == "" {
		return nil
	}
	release := c.Release
	known := func() bool {
		if release == "" && base.Cache != nil {
			src, err := kbuild.Identify(ctx, base.Cache, kbuild.SourceRequest{Kernel: c.Kernel, Local: base.KernelSrc,
				SHA256: base.KernelSHA256, Mirror: base.KernelMirror, DebianDir: base.DebianSrc})
			if err == nil {
				release = src.Version
			}
		}
		return release != ""
	}
	whys := map[int]string{}
	for i, s := range specs {
		if specVariant(s) != v {
			continue
		}
		onArch := spec.Requires{Arch: s.Requires.Arch}
		if why := onArch.Unmet(spec.Host{Arch: c.Arch}); why != "" {
			whys[i] = why
			continue
		}
		if s.Requires.Kernel == "" || !known() {
			return nil
		}
		onKernel := spec.Requires{Kernel: s.Requires.Kernel}
		why := onKernel.Unmet(spec.Host{Kernel: release})
		if why == "" {
			return nil
		}
		whys[i] = why
	}
	return whys
}

// skipSpecs gives the specs of variant v on cell j, which variantRuledOut
// ruled out, a SKIP result with each one's reason.
func skipSpecs(m *Matrix, specs []*spec.Spec, j int, v string, whys map[int]string) {
	failSpecs(m, specs, j, v, &skipError{"ruled out"})
	for i, why := range whys {
		m.Result(i, j).Reason = why
	}
}
