package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/quirk"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/initramfs"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
	"github.com/lkmtest/lkmtest/qemu"
)

// Options configure a pipeline run for one kernel and arch.
type Options struct {
	// Cache is the cache directory.
	Cache *cache.Dir
	// Arch is the guest architecture.
	Arch arch.Arch
	// Kernel is a Debian series ("6.1") or a kernel.org release ("6.6.62").
	Kernel string
	// KernelSrc is a local kernel tree to build instead (--kernel-src).
	KernelSrc string
	// KernelSHA256 is the release tarball's checksum (--kernel-sha256).
	KernelSHA256 string
	// Accel is auto, kvm or tcg.
	Accel string
	// Out is the run directory for artefacts.
	Out string
	// Timeout overrides every test's timeout when > 0.
	Timeout time.Duration
	// Jobs is make's -j for kernel builds (0: number of CPUs).
	Jobs int
	// VMs is how many test VMs may run at once (0: number of CPUs).
	VMs int
	// Log receives progress lines.
	Log io.Writer
	// Verbose also streams build output and the serial console to Log.
	Verbose bool
	// SrcRoot is lkmtest's source tree ("" when not available).
	SrcRoot string
	// Extra are config fragments merged after lkmtest's own (--kconfig,
	// then a spec's boot.config); they are part of the kernel's cache key.
	Extra []kbuild.Fragment
	// Variant names the Extra of a spec's boot.config in directory names
	// ("debug" gives 6.1.192-x86_64+debug; see VariantName).
	Variant string
}

func (o *Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

func (o *Options) verbose() io.Writer {
	if o.Verbose {
		return o.log()
	}
	return io.Discard
}

// Fragments returns the kernel config fragments for arch: base, then the
// arch's own.
func Fragments(arch arch.Arch) ([]kbuild.Fragment, error) {
	var out []kbuild.Fragment
	for _, name := range []string{"base.config", arch.Spec().ConfigFragment} {
		text, err := kernelconfigs.Read(name)
		if err != nil {
			return nil, err
		}
		out = append(out, kbuild.Fragment{Name: "kernel-configs/" + name, Text: text})
	}
	return out, nil
}

// ReadFragment reads a user's config fragment (--kconfig, boot.config),
// checking its syntax so that a mistake is reported with its file and line.
// "lkmtest:NAME" is lkmtest's own kernel-configs/NAME.config (see
// kernelconfigs.Lookup); anything else is a file.
func ReadFragment(path string) (kbuild.Fragment, error) {
	if kernelconfigs.IsRef(path) {
		_, file, err := kernelconfigs.Lookup(path)
		if err != nil {
			return kbuild.Fragment{}, err
		}
		text, err := kernelconfigs.Read(file)
		if err != nil {
			return kbuild.Fragment{}, err
		}
		name := "kernel-configs/" + file
		if _, err := kconfig.Parse(name, text); err != nil {
			return kbuild.Fragment{}, err
		}
		return kbuild.Fragment{Name: name, Text: text}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return kbuild.Fragment{}, fmt.Errorf("config fragment: %w", err)
	}
	if _, err := kconfig.Parse(path, string(b)); err != nil {
		return kbuild.Fragment{}, err
	}
	return kbuild.Fragment{Name: path, Text: string(b)}, nil
}

// VariantName names the kernel variant of a fragment (a spec's
// boot.config) in target names: "debug" for lkmtest:debug and for
// .../debug.config alike (6.1.192-x86_64+debug).
func VariantName(ref string) string {
	if name, ok := strings.CutPrefix(ref, kernelconfigs.Prefix); ok {
		return name
	}
	return strings.TrimSuffix(filepath.Base(ref), filepath.Ext(ref))
}

// Source resolves the kernel source tree of o.Kernel.
func Source(ctx context.Context, o *Options) (*kbuild.Source, error) {
	return kbuild.Resolve(ctx, o.Cache, kbuild.SourceRequest{Kernel: o.Kernel, Local: o.KernelSrc, SHA256: o.KernelSHA256}, o.log())
}

// kernelRequest resolves the source and fragments of o's kernel.
func kernelRequest(ctx context.Context, o *Options) (kbuild.KernelRequest, error) {
	src, err := Source(ctx, o)
	if err != nil {
		return kbuild.KernelRequest{}, err
	}
	frags, err := Fragments(o.Arch)
	if err != nil {
		return kbuild.KernelRequest{}, err
	}
	frags = append(frags, o.Extra...)
	return kbuild.KernelRequest{Source: src, Arch: o.Arch, Fragments: frags, Jobs: o.Jobs, Log: o.verbose()}, nil
}

// Configure runs the configure stage alone: it writes out/.config for o's
// kernel and checks every requested option survived.
func Configure(ctx context.Context, o *Options, out string) (*kconfig.Config, error) {
	req, err := kernelRequest(ctx, o)
	if err != nil {
		return nil, err
	}
	final, err := kbuild.Configure(ctx, o.Cache, req, out)
	if err != nil {
		return nil, fmt.Errorf("kernel %s %s: %w", req.Source.Version, o.Arch, err)
	}
	return final, nil
}

// Kernel resolves, configures and builds (or finds in the cache) the kernel.
func Kernel(ctx context.Context, o *Options) (*kbuild.Kernel, error) {
	req, err := kernelRequest(ctx, o)
	if err != nil {
		return nil, err
	}
	src := req.Source
	req.OnMiss = func() {
		fmt.Fprintf(o.log(), "kernel %s %s: not in the cache, building (several minutes; -v shows the build)\n", src.Version, o.Arch)
	}
	k, err := kbuild.BuildKernel(ctx, o.Cache, req)
	if err != nil {
		return nil, fmt.Errorf("kernel %s %s: %w", src.Version, o.Arch, err)
	}
	if k.Built {
		fmt.Fprintf(o.log(), "kernel %s %s: built in %.0fs (%d options =y), cached as %s\n",
			src.Version, o.Arch, k.Meta.BuildSeconds+k.Meta.ConfigureSeconds, k.Meta.OptionsY, k.Dir)
	}
	return k, nil
}

// Target is everything needed to boot test VMs of one kernel and arch.
type Target struct {
	// Kernel is the built kernel.
	Kernel *kbuild.Kernel
	// Initramfs is the assembled image (base + agent overlay).
	Initramfs string
	// Accel is the accelerator the VMs use.
	Accel qemu.AccelChoice
	// Quirks are the quirk table's effects for this kernel and arch.
	Quirks quirk.Set
	// Options are the run's options.
	Options *Options

	digestOnce sync.Once // initrdDigest
	digest     string
	digestErr  error
	configOnce sync.Once // host
	config     *kconfig.Config
}

// Name is "6.1.192-x86_64".
func (t *Target) Name() string {
	n := t.Kernel.Meta.KernelVersion + "-" + string(t.Options.Arch)
	if t.Options.Variant != "" {
		n += "+" + t.Options.Variant
	}
	return n
}

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

// vmQuirks are the QEMU options the quirk table asks for this target.
func (t *Target) vmQuirks() []qemu.Fn {
	fns := []qemu.Fn{qemu.WithCPUModel(t.Quirks.CPU)}
	if t.Quirks.NoPanicDevice {
		fns = append(fns, qemu.WithoutPanicDevice())
	}
	return fns
}

// Prepare builds the kernel and assembles the initramfs in o.Out.
func Prepare(ctx context.Context, o *Options) (*Target, error) {
	// No emulator, no run: say so before building anything.
	if err := qemu.CheckInstalled(o.Arch); err != nil {
		return nil, err
	}
	k, err := Kernel(ctx, o)
	if err != nil {
		return nil, err
	}
	base, err := initramfs.Base(ctx, o.Cache, o.Arch, o.SrcRoot, o.log())
	if err != nil {
		return nil, err
	}
	// The overlay's programs, each built or fetched once and cached.
	var init, child, busybox, chrt []byte
	for _, p := range []struct {
		data *[]byte
		get  func() (string, error)
	}{
		{&init, func() (string, error) { return initramfs.Agent(ctx, o.Cache, o.Arch, o.SrcRoot, o.log()) }},
		{&child, func() (string, error) { return initramfs.Child(ctx, o.Cache, o.Arch) }},
		{&busybox, func() (string, error) { return initramfs.Busybox(ctx, o.Cache, o.Arch, o.log()) }},
		{&chrt, func() (string, error) { return initramfs.Chrt(ctx, o.Cache, o.Arch) }},
	} {
		path, err := p.get()
		if err != nil {
			return nil, err
		}
		if *p.data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return nil, err
	}
	t := &Target{Kernel: k, Options: o, Quirks: quirk.For(o.Arch, k.Meta.KernelVersion)}
	dir := filepath.Join(o.Out, t.Name())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	t.Initramfs = filepath.Join(dir, "initramfs.cpio")
	if err := initramfs.Assemble(t.Initramfs, base, initramfs.Overlay{Init: init, Child: child, Busybox: busybox,
		Files: []initramfs.File{{Path: "bin/chrt", Data: chrt, Mode: 0o755}}}); err != nil {
		return nil, fmt.Errorf("pack initramfs: %w", err)
	}
	_ = cache.CopyFile(filepath.Join(dir, "kernel.config"), filepath.Join(k.BuildDir, ".config"), 0o600)
	t.Accel, err = chooseAccel(ctx, t)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.log(), "accelerator: %s\n", t.Accel.Reason)
	return t, nil
}

// chooseAccel probes KVM with a bounded trial boot of the target's own kernel
// and caches the answer for this host boot.
func chooseAccel(ctx context.Context, t *Target) (qemu.AccelChoice, error) {
	o := t.Options
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	key := cache.Key("accel/v1", strings.TrimSpace(string(bootID)), string(o.Arch), t.Kernel.Key)
	memo := filepath.Join(o.Cache.Root, "accel", key+".json")
	if o.Accel == "auto" {
		var c qemu.AccelChoice
		if b, err := os.ReadFile(memo); err == nil && json.Unmarshal(b, &c) == nil {
			return c, nil
		}
	}
	trial := func(ctx context.Context) error {
		sock, err := socketDir("probe")
		if err != nil {
			return err
		}
		defer releaseSocketDir(sock)
		var console strings.Builder
		vm, err := qemu.Start(ctx, o.Arch, append(t.vmQuirks(), qemu.WithAccel(qemu.AccelKVM), qemu.WithKernel(t.Kernel.Image),
			qemu.WithInitramfs(t.Initramfs), qemu.WithSocketDir(sock), qemu.WithInitArgs("probe"),
			qemu.WithConsole(&console), qemu.WithTimeout(15*time.Second))...)
		if err != nil {
			return err
		}
		exit := vm.Wait()
		if !exit.Clean() || !strings.Contains(console.String(), "probe ok") {
			return fmt.Errorf("guest did not reach init and power off in 15s (%s)", exit)
		}
		return nil
	}
	c, err := qemu.ChooseAccel(ctx, o.Accel, o.Arch, trial)
	if err != nil {
		return c, err
	}
	if o.Accel == "auto" {
		if b, err := json.Marshal(c); err == nil && os.MkdirAll(filepath.Dir(memo), 0o700) == nil {
			_ = cache.WriteFileAtomic(memo, b, 0o600)
		}
	}
	return c, nil
}
