package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/result"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// The resolve, configure and build stages of the kernel, each runnable
// alone (lkmtest kernel src|config|build).

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
	src, err := kbuild.Resolve(ctx, o.Cache, kbuild.SourceRequest{Kernel: o.Kernel, Local: o.KernelSrc, SHA256: o.KernelSHA256,
		Mirror: o.KernelMirror, DebianDir: o.DebianSrc}, o.log())
	return src, inStage(result.StageResolve, err)
}

// kernelRequest resolves the source and fragments of o's kernel.
func kernelRequest(ctx context.Context, o *Options) (kbuild.KernelRequest, error) {
	src, err := Source(ctx, o)
	if err != nil {
		return kbuild.KernelRequest{}, err
	}
	return requestFor(o, src)
}

// requestFor is the kernel request of o's kernel with source src (resolved,
// or only identified: see KernelKeys).
func requestFor(o *Options, src *kbuild.Source) (kbuild.KernelRequest, error) {
	frags, err := Fragments(o.Arch)
	if err != nil {
		return kbuild.KernelRequest{}, err
	}
	frags = append(frags, o.Extra...)
	return kbuild.KernelRequest{Source: src, Arch: o.Arch, Fragments: frags, Jobs: o.Jobs, Log: o.verbose()}, nil
}

// lazyRequest is kernelRequest, but the source is only identified
// (kbuild.Identify), and resolved only if the kernel is built: a kernel
// found in the cache or pulled from o.KernelRemote needs no unpacked tree
// (nor a download).
func lazyRequest(ctx context.Context, o *Options) (kbuild.KernelRequest, error) {
	src, err := kbuild.Identify(ctx, o.Cache, kbuild.SourceRequest{Kernel: o.Kernel, Local: o.KernelSrc, SHA256: o.KernelSHA256,
		Mirror: o.KernelMirror, DebianDir: o.DebianSrc})
	if err != nil {
		return kbuild.KernelRequest{}, inStage(result.StageResolve, err)
	}
	req, err := requestFor(o, src)
	req.Remote = o.KernelRemote
	req.Resolve = func(ctx context.Context) (*kbuild.Source, error) { return Source(ctx, o) }
	return req, err
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
		return nil, inStage(result.StageConfigure, fmt.Errorf("kernel %s %s: %w", req.Source.Version, o.Arch, err))
	}
	return final, nil
}

// Kernel resolves, configures and builds (or finds in the cache, or pulls
// from o.KernelRemote) the kernel.
func Kernel(ctx context.Context, o *Options) (*kbuild.Kernel, error) {
	req, err := lazyRequest(ctx, o)
	if err != nil {
		return nil, err
	}
	src := req.Source
	req.OnMiss = func() {
		fmt.Fprintf(o.log(), "kernel %s %s: not in the cache, building (several minutes; -v shows the build)\n", src.Version, o.Arch)
	}
	req.Notify = func(msg string) { fmt.Fprintf(o.log(), "kernel %s %s: %s\n", src.Version, o.Arch, msg) }
	k, err := kbuild.BuildKernel(ctx, o.Cache, req)
	if err != nil {
		return nil, inStage(result.StageBuild, fmt.Errorf("kernel %s %s: %w", src.Version, o.Arch, err))
	}
	if k.Built {
		fmt.Fprintf(o.log(), "kernel %s %s: built in %.0fs (%d options =y), cached as %s\n",
			src.Version, o.Arch, k.Meta.BuildSeconds+k.Meta.ConfigureSeconds, k.Meta.OptionsY, k.Dir)
	}
	// A kernel built here links its source tree (build/source), which
	// the cache may have lost since: resolving unpacks it again where the
	// link points. (A pulled kernel carries what module builds need.)
	if _, err := os.Stat(filepath.Join(k.BuildDir, "source", "Makefile")); err != nil && src.Dir == "" {
		if _, err := Source(ctx, o); err != nil {
			return nil, err
		}
	}
	return k, nil
}
