package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/quirk"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/initramfs"
	"github.com/lkmtest/lkmtest/qemu"
)

// Target is everything needed to run tests on one kernel and arch: the
// built kernel, the machine its VMs boot (initramfs, accelerator, quirks)
// and the builder of its modules.
type Target struct {
	// Kernel is the built kernel.
	Kernel *kbuild.Kernel
	// Machine boots the target's VMs.
	*boot.Machine
	// Modules builds tests' modules and helpers against Kernel.
	Modules *modbuild.Builder
	// Options are the run's options.
	Options *Options

	// start and build are Machine.Start and Modules.Build; unit tests
	// give fakes.
	start func(context.Context, boot.Config) (*boot.Session, error)
	build func(context.Context, *spec.Spec, string) modbuild.Set

	configOnce sync.Once // host
	config     *kconfig.Config
}

// Cell is the target's cell: its kernel as asked and built, arch and
// variant.
func (t *Target) Cell() result.Cell {
	return result.Cell{Kernel: t.Options.Kernel, Release: t.Kernel.Meta.KernelVersion, Arch: string(t.Options.Arch), Variant: t.Options.Variant}
}

// Name is the cell's label: "6.1.192-x86_64", "6.1.192-x86_64+debug" for
// a spec's boot.config.
func (t *Target) Name() string { return t.Cell().Label() }

// host describes the target for spec requirements: arch, kernel version,
// the built .config and this host's CPUs and memory.
func (t *Target) host() spec.Host {
	t.configOnce.Do(func() {
		if b, err := os.ReadFile(filepath.Join(t.Kernel.BuildDir, ".config")); err == nil {
			t.config, _ = kconfig.Parse(".config", string(b))
		}
	})
	h := spec.Host{Arch: string(t.Options.Arch), Kernel: t.Kernel.Meta.KernelVersion, CPUs: runtime.NumCPU(), MemoryMiB: hostMemoryMiB()}
	if t.config != nil {
		h.Config = t.config.Get
	}
	return h
}

// hostMemoryMiB is MemTotal of /proc/meminfo (0 when unknown).
func hostMemoryMiB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return 0
}

// Prepare builds the kernel, assembles the initramfs in o.Out and chooses
// the accelerator.
func Prepare(ctx context.Context, o *Options) (*Target, error) {
	// No emulator, no run: say so before building anything.
	if err := qemu.CheckInstalled(o.Arch); err != nil {
		return nil, inStage(result.StageTool, err)
	}
	k, err := Kernel(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return nil, err
	}
	q := quirk.For(o.Arch, k.Meta.KernelVersion)
	t := &Target{Kernel: k, Options: o,
		Machine: &boot.Machine{Arch: o.Arch, Image: k.Image, KernelKey: k.Key, Quirks: q, Cache: o.Cache, NoSnapshots: o.NoSnapshots, Standby: o.Standby, Log: o.log()},
		Modules: &modbuild.Builder{Cache: o.Cache, Arch: o.Arch, Log: o.verbose(), Kernel: modbuild.Kernel{
			BuildDir: k.BuildDir, Key: k.Key, Version: k.Meta.KernelVersion, MakeArgs: kbuild.MakeArgs(o.Arch, k.Meta.KernelVersion)}},
	}
	if !o.NoProbeMemo {
		t.Modules.Kernel.ProbeDir = k.ProbeDir
		t.Modules.Kernel.TryRun = modbuild.TryRunStyle(filepath.Join(k.BuildDir, "source"))
		t.Modules.Kernel.Modpost = modbuild.ModpostWrappable(filepath.Join(k.BuildDir, "source"))
		t.Modules.Kernel.PCH = o.PCH
	}
	t.start, t.build = t.Machine.Start, t.Modules.Build
	dir := filepath.Join(o.Out, t.Name())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if t.Initramfs, t.InitramfsKey, err = pack(ctx, o, filepath.Join(dir, "initramfs.cpio")); err != nil {
		return nil, inStage(result.StagePack, err)
	}
	_ = cache.CopyFile(filepath.Join(dir, "kernel.config"), filepath.Join(k.BuildDir, ".config"), 0o600)
	if t.Accel, err = t.Probe(ctx, o.Accel); err != nil {
		return nil, inStage(result.StageBoot, err)
	}
	fmt.Fprintf(o.log(), "accelerator: %s\n", t.Accel.Reason)
	return t, nil
}

// pack assembles the initramfs, the cached u-root base plus an overlay
// of the guest agent, the module helper, busybox and chrt (each built or
// fetched once and cached), into the cache once per set of inputs, and
// links it to path; it returns path and the image's cache key (its
// content's name: the snapshot key uses it, so nothing hashes 10 MB per
// run).
func pack(ctx context.Context, o *Options, path string) (string, string, error) {
	base, err := initramfs.Base(ctx, o.Cache, o.Arch, o.SrcRoot, o.log())
	if err != nil {
		return "", "", err
	}
	inputs := []struct {
		file string
		get  func() (string, error)
	}{
		{get: func() (string, error) { return initramfs.Agent(ctx, o.Cache, o.Arch, o.SrcRoot, o.AgentDir, o.log()) }},
		{get: func() (string, error) {
			return modbuild.StaticC(ctx, o.Cache, o.Arch, initramfs.ChildName, initramfs.ChildSource, "initramfs/child/"+initramfs.ChildName+".c")
		}},
		{get: func() (string, error) { return initramfs.Busybox(ctx, o.Cache, o.Arch, o.log()) }},
		{get: func() (string, error) {
			return modbuild.StaticC(ctx, o.Cache, o.Arch, "chrt", initramfs.ChrtSource, "initramfs/child/chrt.c")
		}},
	}
	ids := []string{"initramfs/v1", fileID(base)}
	for i := range inputs {
		if inputs[i].file, err = inputs[i].get(); err != nil {
			return "", "", err
		}
		ids = append(ids, fileID(inputs[i].file))
	}
	key := cache.Key(ids...)
	dir, _, err := o.Cache.Ensure(ctx, "initramfs", key, func(ctx context.Context, tmp string) error {
		var data [4][]byte
		for i := range inputs {
			var err error
			if data[i], err = os.ReadFile(inputs[i].file); err != nil {
				return err
			}
		}
		return initramfs.Assemble(filepath.Join(tmp, "initramfs.cpio"), base, initramfs.Overlay{Init: data[0], Child: data[1], Busybox: data[2],
			Files: []initramfs.File{{Path: "bin/chrt", Data: data[3], Mode: 0o755}}})
	})
	if err != nil {
		return "", "", fmt.Errorf("pack initramfs: %w", err)
	}
	cached := filepath.Join(dir, "initramfs.cpio")
	_ = os.Remove(path)
	if os.Link(cached, path) != nil && os.Symlink(cached, path) != nil {
		return cached, key, nil
	}
	return path, key, nil
}

// fileID names a file of the cache by path, size and modification time:
// cache entries never change once made, and a prebuilt agent
// (LKMTEST_AGENT_DIR) that is replaced changes size or time.
func fileID(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s:%d:%d", path, st.Size(), st.ModTime().UnixNano())
}
