package kbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/progress"
	"github.com/lkmtest/lkmtest/harness/quirk"
)

// Fragment is a named piece of kernel configuration.
type Fragment struct {
	// Name identifies the fragment in messages ("kernel-configs/base.config").
	Name string
	// Text is its content.
	Text string
}

// KernelRequest says which kernel to build.
type KernelRequest struct {
	// Source is the tree to build.
	Source *Source
	// Arch is the target architecture.
	Arch arch.Arch
	// Fragments are merged in order onto allnoconfig.
	Fragments []Fragment
	// Jobs is make's -j (default: number of CPUs).
	Jobs int
	// Log receives the build's output (may be io.Discard).
	Log io.Writer
	// OnMiss, if set, is called before a kernel that is not cached is built.
	OnMiss func()
	// Remote, if set, is asked for a kernel missing from the cache before
	// it is built, and offered the kernel found or built (see Remote).
	Remote Remote
	// Notify, if set, receives one line for what Remote did or why it
	// could not ("pulled from ...", "... unreachable ...; building locally").
	Notify func(string)
	// Resolve, when Source was only identified (no Dir: see Identify),
	// resolves it for a build: a kernel found in the cache or pulled
	// needs no source tree.
	Resolve func(context.Context) (*Source, error)
}

// Kernel is a built kernel in the cache.
type Kernel struct {
	// Dir is the cache entry.
	Dir string
	// BuildDir is the O= directory, usable with make -C BuildDir M=...
	BuildDir string
	// Image is the bootable kernel image.
	Image string
	// Key is the cache key.
	Key string
	// Meta is the entry's metadata.json.
	Meta Metadata
	// Built is true when this call built it (a cache miss).
	Built bool
	// Pulled says where this call pulled it from (a cache miss filled
	// by KernelRequest.Remote; "" otherwise).
	Pulled string
	// ProbeDir memoizes kbuild's compiler probes for module builds
	// against this kernel (see probe.go).
	ProbeDir string
}

// Metadata is recorded next to every built kernel.
type Metadata struct {
	// Key is the cache key.
	Key string `json:"key"`
	// Arch is the target architecture.
	Arch arch.Arch `json:"arch"`
	// KernelVersion is the source's version.
	KernelVersion string `json:"kernel_version"`
	// SourceIdentity names the source tree.
	SourceIdentity string `json:"source_identity"`
	// Compiler is the compiler's version line.
	Compiler string `json:"compiler"`
	// Fragments are the names of the merged fragments, in order.
	Fragments []string `json:"fragments"`
	// Quirks are the quirk table entries applied to this kernel.
	Quirks []string `json:"quirks,omitempty"`
	// RequestedOptions counts the options the fragments set.
	RequestedOptions int `json:"requested_options"`
	// OptionsY and OptionsM count =y and =m in the final .config.
	OptionsY int `json:"options_y"`
	OptionsM int `json:"options_m"`
	// ConfigureSeconds and BuildSeconds are the stage durations.
	ConfigureSeconds float64 `json:"configure_seconds"`
	BuildSeconds     float64 `json:"build_seconds"`
	// Jobs is the -j the build used.
	Jobs int `json:"jobs"`
	// Objects is how many objects the build compiled or linked (the
	// expected total of the next build's progress).
	Objects int64 `json:"objects,omitempty"`
	// Commands reproduce the build (run from any directory).
	Commands []string `json:"commands"`
	// Created is when the build finished.
	Created time.Time `json:"created"`
}

// MakeArgs are the make variables every build for a of kernel version
// needs, the kernel's and its modules' alike: ARCH=, CROSS_COMPILE= when
// cross-building, and the quirk table's.
func MakeArgs(arch arch.Arch, version string) []string {
	spec := arch.Spec()
	args := []string{"ARCH=" + spec.KernelArch}
	if !arch.Native() {
		args = append(args, "CROSS_COMPILE="+spec.CrossCompile)
	}
	return append(args, quirk.For(arch, version).MakeVars...)
}

// makeArgs are the make arguments of an out-of-tree kernel build.
func makeArgs(src *Source, out string, arch arch.Arch) []string {
	return append([]string{"-C", src.Dir, "O=" + out}, MakeArgs(arch, src.Version)...)
}

// compiler is the C compiler the kernel build for arch uses.
func compiler(arch arch.Arch) string { return arch.CC() }

// MergeFragments parses and merges fragments.
func MergeFragments(frags []Fragment) (*kconfig.Config, error) {
	var cs []*kconfig.Config
	for _, f := range frags {
		c, err := kconfig.Parse(f.Name, f.Text)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return kconfig.Merge(cs...), nil
}

// KernelKey is the cache key of a kernel: source, arch, merged config (after
// the quirk table's drops and renames for the source's version) and
// compiler. Computing it runs no make.
func KernelKey(ctx context.Context, c *cache.Dir, req KernelRequest) (string, *kconfig.Config, string, error) {
	merged, err := MergeFragments(req.Fragments)
	if err != nil {
		return "", nil, "", err
	}
	q := quirk.For(req.Arch, req.Source.Version)
	merged = merged.Without(q.Drop...).Renamed(q.Rename)
	if len(q.Set) > 0 {
		set, err := kconfig.Parse(QuirkTable+" ("+strings.Join(q.IDs, ", ")+")", strings.Join(q.Set, "\n")+"\n")
		if err != nil {
			return "", nil, "", err
		}
		merged = kconfig.Merge(merged, set)
	}
	cc := compiler(req.Arch)
	ccVersion, err := CompilerVersion(ctx, c, cc)
	if errors.Is(err, exec.ErrNotFound) {
		return "", nil, "", &hostdeps.MissingTool{Tool: cc, Package: req.Arch.CompilerPackage(), Err: err}
	}
	if err != nil {
		return "", nil, "", &hostdeps.MissingTool{Tool: cc, Package: req.Arch.CompilerPackage(), Err: err, Broken: true}
	}
	parts := []string{"kernel/v1", req.Source.Identity, string(req.Arch), merged.String(), ccVersion}
	if len(q.MakeVars) > 0 {
		parts = append(parts, strings.Join(q.MakeVars, " "))
	}
	key := cache.Key(parts...)
	return key, merged, ccVersion, nil
}

// Configure writes the kernel configuration of req into out (an O=
// directory: out/.config) without building, and checks that every
// requested option survived olddefconfig. It is the configure stage alone.
func Configure(ctx context.Context, c *cache.Dir, req KernelRequest, out string) (*kconfig.Config, error) {
	if req.Log == nil {
		req.Log = io.Discard
	}
	_, merged, _, err := KernelKey(ctx, c, req)
	if err != nil {
		return nil, err
	}
	// make runs in the source tree (-C): a relative O= would land there.
	if out, err = filepath.Abs(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	final, _, err := configure(ctx, req.Log, req, merged, out, filepath.Join(out, "requested.config"))
	return final, err
}

// configure runs allnoconfig with the merged fragments as
// KCONFIG_ALLCONFIG (written to requested), then olddefconfig, and
// validates the result. It returns the final config and the make commands.
func configure(ctx context.Context, log io.Writer, req KernelRequest, merged *kconfig.Config, out, requested string) (*kconfig.Config, []string, error) {
	if err := os.WriteFile(requested, []byte(merged.String()), 0o600); err != nil {
		return nil, nil, err
	}
	base := makeArgs(req.Source, out, req.Arch)
	allno := append(append([]string{}, base...), "KCONFIG_ALLCONFIG="+requested, "allnoconfig")
	olddef := append(append([]string{}, base...), "olddefconfig")
	cmds := []string{"make " + strings.Join(allno, " "), "make " + strings.Join(olddef, " ")}
	for _, args := range [][]string{allno, olddef} {
		if err := run(ctx, log, "", "make", args...); err != nil {
			return nil, nil, fmt.Errorf("configure kernel: %w", err)
		}
	}
	finalText, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil {
		return nil, nil, fmt.Errorf("configure kernel: %w", err)
	}
	final, err := kconfig.Parse(".config", string(finalText))
	if err != nil {
		return nil, nil, fmt.Errorf("configure kernel: %w", err)
	}
	if ms := kconfig.Validate(merged, final); len(ms) > 0 {
		return nil, nil, &kconfig.ValidationError{Mismatches: ms}
	}
	return final, cmds, nil
}

// previousObjects is the object count of the latest cached build of the
// same kernel version and arch (0 when none): the expected total of a
// build's progress.
func previousObjects(c *cache.Dir, arch arch.Arch, version string) int64 {
	metas, _ := filepath.Glob(filepath.Join(c.Root, "kernels", "*", "metadata.json"))
	var best Metadata
	for _, p := range metas {
		b, err := os.ReadFile(p)
		var m Metadata
		if err != nil || json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Arch == arch && m.KernelVersion == version && m.Objects > 0 && m.Created.After(best.Created) {
			best = m
		}
	}
	return best.Objects
}

// BuildKernel returns the kernel for req, building it into the cache on a
// miss. A hit runs no make at all.
func BuildKernel(ctx context.Context, c *cache.Dir, req KernelRequest) (*Kernel, error) {
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
	var pulled string
	dir, built, err := c.Ensure(ctx, "kernels", key, func(ctx context.Context, tmp string) error {
		var err error
		if pulled, err = req.pull(ctx, tmp, key); err != nil || pulled != "" {
			return err
		}
		if req.OnMiss != nil {
			req.OnMiss()
		}
		if err := req.resolve(ctx); err != nil {
			return err
		}
		return buildKernel(ctx, c, tmp, key, merged, ccVersion, req)
	})
	if err != nil {
		return nil, err
	}
	k := &Kernel{Dir: dir, BuildDir: filepath.Join(dir, "build"), Key: key, Built: built && pulled == "", Pulled: pulled,
		ProbeDir: c.Path("probes", key)}
	k.Image = filepath.Join(k.BuildDir, req.Arch.Spec().Image)
	b, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err == nil {
		err = json.Unmarshal(b, &k.Meta)
	}
	if err != nil {
		return nil, fmt.Errorf("kernel cache entry %s: metadata: %w", dir, err)
	}
	req.share(ctx, k)
	return k, nil
}

func buildKernel(ctx context.Context, c *cache.Dir, tmp, key string, merged *kconfig.Config, ccVersion string, req KernelRequest) error {
	return makeKernel(ctx, c, tmp, key, merged, ccVersion, req, makeJob{
		targets: []string{req.Arch.Spec().ImageTarget, "modules"}, what: "build kernel", verb: "building",
		task: "kernel", failedLog: "kernel-" + key + "-failed.log",
		previous: previousObjects(c, req.Arch, req.Source.Version),
	})
}

// makeJob is what a build of a cache entry makes: a full kernel
// (buildKernel) or a prepared tree (prepareKernel).
type makeJob struct {
	targets   []string // make's targets
	what      string   // the stage, in errors ("build kernel")
	verb      string   // in the log line ("building")
	note      string   // after the option count in the log line
	task      string   // the progress task's first word
	failedLog string   // the name of a failed build's kept log in logs/
	previous  int64    // objects the last such build made (progress)
	prepared  bool     // metadata.json says "prepared": true
}

// makeKernel configures req's kernel into tmp/build and runs make for
// job's targets, writing build.log and metadata.json. A make that fails is
// a KernelBuildError (its first error, the quirks, what to do), and its log
// is kept in the cache's logs/ directory (the entry itself is removed).
func makeKernel(ctx context.Context, c *cache.Dir, tmp, key string, merged *kconfig.Config, ccVersion string, req KernelRequest, job makeJob) (err error) {
	out := filepath.Join(tmp, "build")
	logPath := filepath.Join(tmp, "build.log")
	logFile, err := cache.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := io.MultiWriter(logFile, req.Log)
	stage := "configure kernel"
	defer func() {
		if err != nil && !errors.Is(err, context.Canceled) {
			kept := filepath.Join(c.Root, "logs", job.failedLog)
			if os.MkdirAll(filepath.Dir(kept), 0o700) != nil || cache.CopyFile(kept, logPath, 0o600) != nil {
				kept = ""
			}
			var lost *kconfig.ValidationError
			if errors.As(err, &lost) {
				if kept != "" {
					err = fmt.Errorf("%w\nlast lines of the build log (all of it: %s):\n%s", err, kept, tail(logPath, 25))
				}
				return
			}
			// A make that failed: its first error, the quirks and what to do.
			text, _ := os.ReadFile(logPath)
			err = buildError(stage, req, ccVersion, out, kept, string(text), tail(logPath, 25), err)
		}
	}()
	base := makeArgs(req.Source, out, req.Arch)
	t0 := time.Now()
	final, cmds, err := configure(ctx, log, req, merged, out, filepath.Join(tmp, "requested.config"))
	if err != nil {
		return err
	}
	stage = job.what
	configured := time.Since(t0)
	fmt.Fprintf(req.Log, "%s linux %s for %s (%s%d options =y) with -j%d; the log is in %s\n",
		job.verb, req.Source.Version, req.Arch, job.note, final.Count("y"), req.Jobs, logPath)
	t1 := time.Now()
	args := append(append(append([]string{}, base...), "-j"+strconv.Itoa(req.Jobs)), job.targets...)
	task := fmt.Sprintf("%s %s %s", job.task, req.Source.Version, req.Arch)
	objects := progress.NewObjectCounter(ctx, task, job.previous)
	defer progress.Send(ctx, progress.Event{Task: task, End: true})
	if err := run(ctx, io.MultiWriter(log, objects), "", "make", args...); err != nil {
		return fmt.Errorf("%s: %w", job.what, err)
	}
	var names []string
	for _, f := range req.Fragments {
		names = append(names, f.Name)
	}
	meta := Metadata{
		Key: key, Arch: req.Arch, KernelVersion: req.Source.Version, SourceIdentity: req.Source.Identity,
		Compiler: ccVersion, Fragments: names, Quirks: quirk.For(req.Arch, req.Source.Version).IDs, RequestedOptions: len(merged.Options()),
		OptionsY: final.Count("y"), OptionsM: final.Count("m"),
		ConfigureSeconds: configured.Seconds(), BuildSeconds: time.Since(t1).Seconds(), Jobs: req.Jobs,
		Objects:  objects.Count(),
		Commands: append(cmds, "make "+strings.Join(args, " ")),
		Created:  time.Now().UTC(),
	}
	var b []byte
	if job.prepared {
		b, _ = json.MarshalIndent(preparedMetadata{Metadata: meta, Prepared: true}, "", "  ")
	} else {
		b, _ = json.MarshalIndent(meta, "", "  ")
	}
	return os.WriteFile(filepath.Join(tmp, "metadata.json"), append(b, '\n'), 0o600)
}
