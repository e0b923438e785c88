package kbuild

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kconfig"
)

// A prepared tree is what the compile-only matrix (lkmtest build) builds
// modules against: the kernel configured exactly as for a full build (the
// same fragments, quirks and compiler: the same cache key), then only
// "make modules_prepare" (generated headers, scripts/mod/modpost, objtool,
// scripts/module.lds), with no vmlinux and no boot image. It is a cache
// entry of its own kind, PreparedKind/<key>, published like a full build
// (under the entry's lock, by an atomic rename), and shares the unpacked
// sources with the full builds.
//
// A prepared tree has no Module.symvers (only a linked vmlinux gives one),
// so modpost cannot know the kernel's exports: module builds against it
// must pass KBUILD_MODPOST_WARN=1 (PreparedMakeArgs), as the kernel's
// Documentation/kbuild/modules.rst says. 6.1's modpost turns its errors
// into warnings by itself when Module.symvers is missing; 6.12's does not
// (every symbol a module uses is "undefined!", an error, without it).

// PreparedKind is the cache directory of prepared trees.
const PreparedKind = "kernels-prepared"

// PreparedMakeArgs are the make variables a module build against a
// prepared tree needs besides MakeArgs: modpost's unresolved symbols are
// warnings, since the tree has no Module.symvers.
var PreparedMakeArgs = []string{"KBUILD_MODPOST_WARN=1"}

// PrepareKernel returns the prepared tree of req (see above), configuring
// it and running make modules_prepare into the cache on a miss; a hit runs
// no make. The returned Kernel has no Image; its Meta.BuildSeconds is the
// modules_prepare time (metadata.json also says "prepared": true).
func PrepareKernel(ctx context.Context, c *cache.Dir, req KernelRequest) (*Kernel, error) {
	if req.Log == nil {
		req.Log = io.Discard
	}
	if req.Jobs <= 0 {
		req.Jobs = runtime.NumCPU()
	}
	key, merged, ccVersion, err := KernelKey(ctx, c, req)
	if err != nil {
		return nil, err
	}
	dir, built, err := c.Ensure(ctx, PreparedKind, key, func(ctx context.Context, tmp string) error {
		if req.OnMiss != nil {
			req.OnMiss()
		}
		return prepareKernel(ctx, c, tmp, key, merged, ccVersion, req)
	})
	if err != nil {
		return nil, err
	}
	k := &Kernel{Dir: dir, BuildDir: filepath.Join(dir, "build"), Key: key, Built: built,
		ProbeDir: c.Path("probes", "prepared-"+key)}
	b, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err == nil {
		err = json.Unmarshal(b, &k.Meta)
	}
	if err != nil {
		return nil, fmt.Errorf("prepared kernel cache entry %s: metadata: %w", dir, err)
	}
	return k, nil
}

// Release is the kernel release a build directory was configured for
// (include/config/kernel.release: "6.1.192"), else version.
func Release(buildDir, version string) string {
	b, err := os.ReadFile(filepath.Join(buildDir, "include", "config", "kernel.release"))
	if r := strings.TrimSpace(string(b)); err == nil && r != "" {
		return r
	}
	return version
}

func prepareKernel(ctx context.Context, c *cache.Dir, tmp, key string, merged *kconfig.Config, ccVersion string, req KernelRequest) error {
	return makeKernel(ctx, c, tmp, key, merged, ccVersion, req, makeJob{
		targets: []string{"modules_prepare"}, what: "prepare kernel (make modules_prepare)", verb: "preparing",
		note: "modules_prepare, ", task: "prepare", failedLog: "kernel-prepared-" + key + "-failed.log",
		previous: previousPrepared(c, req), prepared: true,
	})
}

// preparedMetadata is a prepared tree's metadata.json: a full build's
// fields (BuildSeconds is the modules_prepare time) and "prepared": true.
type preparedMetadata struct {
	Metadata
	Prepared bool `json:"prepared"`
}

// previousPrepared is the object count of the latest prepared tree of the
// same kernel version and arch (0 when none): the expected total of the
// progress.
func previousPrepared(c *cache.Dir, req KernelRequest) int64 {
	metas, _ := filepath.Glob(filepath.Join(c.Root, PreparedKind, "*", "metadata.json"))
	var best Metadata
	for _, p := range metas {
		b, err := os.ReadFile(p)
		var m Metadata
		if err != nil || json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Arch == req.Arch && m.KernelVersion == req.Source.Version && m.Objects > 0 && m.Created.After(best.Created) {
			best = m
		}
	}
	return best.Objects
}
