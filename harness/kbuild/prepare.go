package kbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/progress"
	"github.com/lkmtest/lkmtest/harness/quirk"
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

func prepareKernel(ctx context.Context, c *cache.Dir, tmp, key string, merged *kconfig.Config, ccVersion string, req KernelRequest) (err error) {
	out := filepath.Join(tmp, "build")
	logPath := filepath.Join(tmp, "build.log")
	logFile, err := cache.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := io.MultiWriter(logFile, req.Log)
	defer func() {
		if err != nil && !errors.Is(err, context.Canceled) {
			// Keep the log of a failed preparation: the entry is removed.
			kept := filepath.Join(c.Root, "logs", "kernel-prepared-"+key+"-failed.log")
			if os.MkdirAll(filepath.Dir(kept), 0o700) == nil && cache.CopyFile(kept, logPath, 0o600) == nil {
				err = fmt.Errorf("%w\nlast lines of the log (all of it: %s):\n%s", err, kept, tail(logPath, 25))
			}
		}
	}()
	t0 := time.Now()
	final, cmds, err := configure(ctx, log, req, merged, out, filepath.Join(tmp, "requested.config"))
	if err != nil {
		return err
	}
	configured := time.Since(t0)
	fmt.Fprintf(req.Log, "preparing linux %s for %s (modules_prepare, %d options =y) with -j%d; the log is in %s\n",
		req.Source.Version, req.Arch, final.Count("y"), req.Jobs, logPath)
	t1 := time.Now()
	args := append(makeArgs(req.Source, out, req.Arch), "-j"+strconv.Itoa(req.Jobs), "modules_prepare")
	task := fmt.Sprintf("prepare %s %s", req.Source.Version, req.Arch)
	objects := progress.NewObjectCounter(ctx, task, previousPrepared(c, req))
	defer progress.Send(ctx, progress.Event{Task: task, End: true})
	if err := run(ctx, io.MultiWriter(log, objects), "", "make", args...); err != nil {
		return fmt.Errorf("prepare kernel (make modules_prepare): %w", err)
	}
	var names []string
	for _, f := range req.Fragments {
		names = append(names, f.Name)
	}
	meta := preparedMetadata{Prepared: true, Metadata: Metadata{
		Key: key, Arch: req.Arch, KernelVersion: req.Source.Version, SourceIdentity: req.Source.Identity,
		Compiler: ccVersion, Fragments: names, Quirks: quirk.For(req.Arch, req.Source.Version).IDs, RequestedOptions: len(merged.Options()),
		OptionsY: final.Count("y"), OptionsM: final.Count("m"),
		ConfigureSeconds: configured.Seconds(), BuildSeconds: time.Since(t1).Seconds(), Jobs: req.Jobs,
		Objects:  objects.Count(),
		Commands: append(cmds, "make "+strings.Join(args, " ")),
		Created:  time.Now().UTC(),
	}}
	b, _ := json.MarshalIndent(meta, "", "  ")
	return os.WriteFile(filepath.Join(tmp, "metadata.json"), append(b, '\n'), 0o600)
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
