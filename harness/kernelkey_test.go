package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/internal/testenv"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// TestKernelKeysAreTheBuilds: the keys KernelKeys computes without
// building are those of the kernels Kernel builds (or finds), for the
// default kernel and a flavoured one (when cached) of 6.1 x86_64; a spec's
// boot.config variant adds its kernel.
func TestKernelKeysAreTheBuilds(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	c, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, flavour := range []string{"", "kasan,kmemleak,ubsan"} {
		base := &Options{Cache: c, Log: testLog{}}
		fs, err := kernelconfigs.ParseFlavours(flavour)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			frag, err := ReadFragment(kernelconfigs.Prefix + f.Name)
			if err != nil {
				t.Fatal(err)
			}
			base.Extra = append(base.Extra, frag)
		}
		base.Variant = kernelconfigs.VariantOf(fs)
		cells := []Cell{NewCell("6.1", arch.X86_64)}
		keys, err := KernelKeys(ctx, base, cells, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 {
			t.Fatalf("flavour %q: %d keys, want 1: %+v", flavour, len(keys), keys)
		}
		if flavour != "" && !keys[0].Cached {
			// Only the default kernel is built here if missing (the VM
			// tests need it anyway); a flavoured one is compared when
			// another test has built it.
			t.Logf("flavour %s: not in the cache, not compared", flavour)
			continue
		}
		o := *base
		o.Kernel, o.Arch = "6.1", arch.X86_64
		k, err := Kernel(ctx, &o)
		if err != nil {
			t.Fatal(err)
		}
		if keys[0].Key != k.Key || keys[0].Release != k.Meta.KernelVersion || !keys[0].Cached {
			t.Errorf("flavour %q: KernelKeys %+v, the build's key %s (release %s)", flavour, keys[0], k.Key, k.Meta.KernelVersion)
		}
	}
	specs, err := SelectSpecs(filepath.Join("testdata", "modules"), []string{"fixture-boot-config"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := KernelKeys(ctx, &Options{Cache: c, Log: testLog{}}, []Cell{NewCell("6.1", arch.X86_64)}, specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Variant != "hz100" {
		t.Errorf("the boot-config fixture's kernels: %+v, want its hz100 variant alone", keys)
	}
}
