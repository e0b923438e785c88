package modbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// Kernel is the built kernel tree that modules are built against.
type Kernel struct {
	// BuildDir is its O= directory (make -C BuildDir M=...).
	BuildDir string
	// Key is its cache key; Version its release ("6.1.192").
	Key, Version string
	// MakeArgs are the make variables every build against it needs
	// (ARCH=, CROSS_COMPILE=, the quirk table's).
	MakeArgs []string
	// ProbeDir memoizes kbuild's compiler probes ("": no memo; see
	// probe.go).
	ProbeDir string
}

// Builder builds tests' modules and helper programs for one kernel.
type Builder struct {
	Cache  *cache.Dir
	Arch   arch.Arch
	Kernel Kernel
	// Log receives make's output (verbose runs).
	Log io.Writer
}

// Set is the outcome of building a test's modules and helpers.
type Set struct {
	// Modules maps a module name (the .ko file name without .ko) to its
	// .ko; Helpers a helper's name to its static binary.
	Modules, Helpers map[string]string
	// Err: nothing could be built; the test is ERROR before any step.
	Err error
	// Failed are the first errors of module directories that built only
	// in part or not at all, for the steps that need a missing module.
	Failed []string
	// Errors are the first errors of modules known to have failed, by name.
	Errors map[string]string
	// Done is when the build finished.
	Done time.Time
}

// GuestModuleDir and GuestHelperDir are where a test's modules and
// helpers are put in the guest.
const (
	GuestModuleDir = "/lkm"
	GuestHelperDir = "/lkmtest/helpers"
)

// Files are the built files to copy into the guest.
func (m Set) Files() []guest.File {
	var out []guest.File
	for _, name := range sortedKeys(m.Modules) {
		out = append(out, guest.File{Src: m.Modules[name], Dst: GuestModuleDir + "/" + name + ".ko", Mode: 0o644})
	}
	for _, name := range sortedKeys(m.Helpers) {
		out = append(out, guest.File{Src: m.Helpers[name], Dst: GuestHelperDir + "/" + name, Mode: 0o755})
	}
	return out
}

// Missing explains why the module a step needs was not built.
func (m Set) Missing(name string) string {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	for k, e := range m.Errors {
		if norm(k) == norm(name) {
			return fmt.Sprintf("module %s was not built: %s", name, e)
		}
	}
	if len(m.Failed) > 0 {
		return fmt.Sprintf("module %s was not built: %s", name, strings.Join(m.Failed, "; "))
	}
	return fmt.Sprintf("no module %s.ko was built (built: %s)", name, strings.Join(sortedKeys(m.Modules), ", "))
}

// dirJob is one module directory of a spec.
type dirJob struct {
	i    int
	tree ModuleTree
}

// dirBuilds are the passes' state: per module directory (by index), its
// build, its output directory and error, whether it needs the others'
// Module.symvers, and how it was last built.
type dirBuilds struct {
	built map[int]*ModuleBuild
	outs  map[int]string
	errs  map[int]error
	needs map[int]bool
	tried map[int]string
}

// Build builds every module directory and helper of s against the
// kernel, writing build logs under dir/build.
func (b *Builder) Build(ctx context.Context, s *spec.Spec, dir string) (res Set) {
	defer func() { res.Done = time.Now() }()
	res = Set{Modules: map[string]string{}, Errors: map[string]string{}}
	if res.Helpers, res.Err = b.helpers(ctx, s); res.Err != nil {
		return res
	}
	root, err := s.TreeRoot()
	if err != nil {
		res.Err = err
		return res
	}
	var jobs []dirJob
	for i, m := range s.Modules {
		src, err := filepath.Abs(filepath.Join(s.Dir, m))
		if err != nil {
			res.Err = err
			return res
		}
		jobs = append(jobs, dirJob{i, ModuleTree{Root: root, Dir: src}})
	}
	d, err := b.buildDirs(ctx, jobs, dir)
	if err != nil {
		res.Err = err
		return res
	}
	d.collect(&res, jobs, len(s.Modules))
	return res
}

// buildDirs builds each directory on its own first, as make in it would;
// one whose modules use symbols no kernel exports (modpost: "undefined!")
// is built again against the other directories' Module.symvers
// (KBUILD_EXTRA_SYMBOLS), in passes until nothing changes: so the order of
// modules: does not matter. That a directory needs them is remembered per
// (kernel, content), so the next run goes straight to it.
func (b *Builder) buildDirs(ctx context.Context, jobs []dirJob, dir string) (*dirBuilds, error) {
	d := &dirBuilds{built: map[int]*ModuleBuild{}, outs: map[int]string{}, errs: map[int]error{}, needs: map[int]bool{}, tried: map[int]string{}}
	for _, j := range jobs {
		if m := b.symversMemo(j); m != "" && len(jobs) > 1 {
			_, err := os.Stat(m)
			d.needs[j.i] = err == nil
		}
	}
	for pass := 0; pass <= 2*len(jobs); pass++ {
		progress := false
		for _, j := range jobs {
			if mb := d.built[j.i]; mb != nil && !mb.Partial {
				continue
			}
			var sv []string
			if d.needs[j.i] {
				sv = d.symversBut(jobs, j.i)
			}
			if key := fmt.Sprint(d.needs[j.i], len(sv)); d.tried[j.i] == key {
				continue // built like this already
			} else {
				d.tried[j.i] = key
			}
			d.outs[j.i] = filepath.Join(dir, "build", fmt.Sprintf("%d-%s", j.i, filepath.Base(j.tree.Dir)))
			mb, err := b.buildDir(ctx, j.tree, sv, d.outs[j.i])
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !d.needs[j.i] && len(jobs) > 1 && undefinedSymbols(mb, err) {
				d.needs[j.i], progress = true, true
			}
			if err != nil {
				d.errs[j.i] = err
				continue
			}
			delete(d.errs, j.i)
			if old := d.built[j.i]; old == nil || len(mb.Kos) > len(old.Kos) {
				progress = true
			}
			d.built[j.i] = mb
			if d.needs[j.i] && !mb.Partial && len(sv) > 0 {
				if m := b.symversMemo(j); m != "" {
					_ = cache.WriteFileAtomic(m, nil, 0o600)
				}
			}
		}
		if !progress {
			break
		}
	}
	return d, nil
}

// symversBut are the Module.symvers of every built directory but i.
func (d *dirBuilds) symversBut(jobs []dirJob, i int) []string {
	var out []string
	for _, j := range jobs {
		if mb := d.built[j.i]; j.i != i && mb != nil && mb.Symvers != "" {
			out = append(out, mb.Symvers)
		}
	}
	return out
}

// symversMemo is the file whose presence says that j's content needs the
// other directories' Module.symvers on this kernel ("" when unknown).
func (b *Builder) symversMemo(j dirJob) string {
	d, err := SourceDigest(j.tree.Dir)
	if err != nil {
		return ""
	}
	return b.Cache.Path("modules", cache.Key("needs-symvers/v1", b.Kernel.Key, d)+".needs-symvers")
}

// collect fills res from the passes: the modules built, the first error of
// each that failed, and Err when nothing built or a failure is not a
// compiler's (the test cannot run).
func (d *dirBuilds) collect(res *Set, jobs []dirJob, n int) {
	var lastErr error
	for _, j := range jobs {
		if err := d.errs[j.i]; err != nil {
			lastErr = err
		}
		mb := d.built[j.i]
		if mb == nil {
			continue
		}
		log := filepath.Join(d.outs[j.i], "build.log")
		for name, e := range mb.Errors {
			res.Errors[name] = fmt.Sprintf("%s (full log: %s)", e, log)
		}
		if mb.FirstError != "" {
			res.Failed = append(res.Failed, fmt.Sprintf("%s: %s (full log: %s)", j.tree.Dir, mb.FirstError, log))
		}
		for _, ko := range mb.Kos {
			res.Modules[strings.TrimSuffix(filepath.Base(ko), ".ko")] = ko
		}
	}
	var firsts []string
	for i := 0; i < n; i++ {
		if err := d.errs[i]; err != nil {
			var be *ModuleBuildError
			if !errors.As(err, &be) {
				res.Err = err
				return
			}
			firsts = append(firsts, err.Error())
		}
	}
	if len(res.Modules) == 0 && lastErr != nil {
		// Nothing built: the test is ERROR at once, with every failure.
		res.Err = errors.New(strings.Join(firsts, "; "))
		return
	}
	res.Failed = append(res.Failed, firsts...)
}

// smokeSpec writes the steps of the smoke test of a module directory
// without a test.yaml, now that its modules are built: every module loaded
// in dependency order, then unloaded in reverse. The spec is saved in the
// test's directory as saveAs, so that lkmtest verdict can judge the run
// again.
func SmokeSpec(p *spec.Spec, mods Set, saveAs string) (*spec.Spec, error) {
	if len(mods.Failed) > 0 {
		return nil, fmt.Errorf("not every module of %s built: %s", p.Dir, strings.Join(mods.Failed, "; "))
	}
	names := sortedKeys(mods.Modules)
	deps := map[string][]string{}
	for _, n := range names {
		d, err := Depends(mods.Modules[n])
		if err != nil {
			return nil, err
		}
		deps[n] = d
	}
	s, text, err := spec.Smoke(p, LoadOrder(names, deps))
	if err != nil {
		return nil, fmt.Errorf("smoke test of %s: %w", p.Dir, err)
	}
	_ = os.WriteFile(saveAs, text, 0o600)
	return s, nil
}

// undefinedSymbols reports whether a module build failed, in whole or in
// part, on symbols modpost could not resolve.
func undefinedSymbols(b *ModuleBuild, err error) bool {
	var be *ModuleBuildError
	if errors.As(err, &be) {
		return strings.Contains(be.Output, "undefined!")
	}
	if b == nil || !b.Partial {
		return false
	}
	if strings.Contains(b.FirstError, "undefined!") {
		return true
	}
	for _, e := range b.Errors {
		if strings.Contains(e, "undefined!") {
			return true
		}
	}
	return false
}

// moduleManifest is what lkmtest records about the build of a module
// directory's content: the files outside the directory that it read, so
// that the next lookup can tell whether they changed.
type moduleManifest struct {
	Outside []string `json:"outside"`
}

// buildModuleDir builds one module directory and copies the .ko files and
// the build log to out. Complete builds are cached by (kernel, the
// directory's content, the content of the files outside it that the last
// build of that content read, the Module.symvers it linked against): a
// re-run of unchanged sources runs no make at all. On a miss the build
// runs in a directory kept per (kernel, module directory), so that only
// what an edit touched is recompiled. A partial build is not cached.
func (b *Builder) buildDir(ctx context.Context, tree ModuleTree, symvers []string, out string) (*ModuleBuild, error) {
	c := b.Cache
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	rel, err := tree.Rel()
	if err != nil {
		return nil, err
	}
	// contentKey names the directory's content; with the manifest of
	// what its last build read outside it, lookup finds a published build.
	contentKey := func() (string, error) {
		digest, err := SourceDigest(tree.Dir)
		if err != nil {
			return "", fmt.Errorf("build module %s: %w", tree.Dir, err)
		}
		parts := []string{"modules/v4", b.Kernel.Key, rel, digest}
		for _, sv := range symvers {
			parts = append(parts, OutsideDigest("/", []string{sv}))
		}
		return cache.Key(parts...), nil
	}
	manifestPath := func(ck string) string { return c.Path("modules", ck+".manifest.json") }
	entryKey := func(ck string, m moduleManifest) string {
		return cache.Key(ck, OutsideDigest(tree.Dir, m.Outside))
	}
	lookup := func(ck string) (string, bool) {
		var m moduleManifest
		if b, err := os.ReadFile(manifestPath(ck)); err != nil || json.Unmarshal(b, &m) != nil {
			return "", false
		}
		return c.Path("modules", entryKey(ck, m)), c.Exists("modules", entryKey(ck, m))
	}
	ck, err := contentKey()
	if err != nil {
		return nil, err
	}
	if entry, ok := lookup(ck); ok {
		return fromEntry(entry, out)
	}
	work := c.Path("modbuild", cache.Key("modbuild/v2", b.Kernel.Key, tree.Root, tree.Dir))
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	unlock, err := cache.Lock(ctx, work+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Again under the lock: another test may have built it meanwhile, or
	// the sources changed while this one waited.
	if ck, err = contentKey(); err != nil {
		return nil, err
	}
	if entry, ok := lookup(ck); ok {
		return fromEntry(entry, out)
	}
	start := time.Now()
	mb, err := BuildModules(ctx, b.Kernel, tree, work, symvers, b.Log)
	_ = cache.CopyFile(filepath.Join(out, "build.log"), filepath.Join(work, "build.log"), 0o600)
	if err != nil {
		return nil, err
	}
	// What was built is what the key says only if no source changed
	// while make ran; else it is used once and not cached.
	after, err := contentKey()
	if err != nil {
		return nil, err
	}
	if mb.Partial || after != ck || changedSince(tree.Dir, mb.Outside, start) {
		return copyBuilt(mb, out)
	}
	m := moduleManifest{Outside: mb.Outside}
	entry, _, err := c.Ensure(ctx, "modules", entryKey(ck, m), func(ctx context.Context, tmp string) error {
		if err := os.Mkdir(filepath.Join(tmp, "ko"), 0o700); err != nil {
			return err
		}
		for _, ko := range mb.Kos {
			if err := cache.CopyFile(filepath.Join(tmp, "ko", filepath.Base(ko)), ko, 0o600); err != nil {
				return err
			}
		}
		if mb.Symvers != "" {
			if err := cache.CopyFile(filepath.Join(tmp, "Module.symvers"), mb.Symvers, 0o600); err != nil {
				return err
			}
		}
		return cache.CopyFile(filepath.Join(tmp, "build.log"), filepath.Join(work, "build.log"), 0o600)
	})
	if err != nil {
		return nil, err
	}
	if mb, err := json.Marshal(m); err == nil {
		_ = cache.WriteFileAtomic(manifestPath(ck), mb, 0o600)
	}
	return fromEntry(entry, out)
}

// changedSince reports whether a file of files (relative to dir) was
// modified at or after t.
func changedSince(dir string, files []string, t time.Time) bool {
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil && !st.ModTime().Before(t) {
			return true
		}
	}
	return false
}

// fromEntry copies a cached module build to out.
func fromEntry(entry, out string) (*ModuleBuild, error) {
	_ = cache.CopyFile(filepath.Join(out, "build.log"), filepath.Join(entry, "build.log"), 0o600)
	kos, _ := filepath.Glob(filepath.Join(entry, "ko", "*.ko"))
	b := &ModuleBuild{Kos: kos}
	if _, err := os.Stat(filepath.Join(entry, "Module.symvers")); err == nil {
		b.Symvers = filepath.Join(entry, "Module.symvers")
	}
	return copyBuilt(b, out)
}

// copyBuilt copies the .ko files and Module.symvers of b into out and
// returns b with them (so nothing of a work directory is read after its
// lock is released).
func copyBuilt(b *ModuleBuild, out string) (*ModuleBuild, error) {
	nb := *b
	if b.Symvers != "" {
		nb.Symvers = filepath.Join(out, "Module.symvers")
		if err := cache.CopyFile(nb.Symvers, b.Symvers, 0o600); err != nil {
			return nil, err
		}
	}
	var copied []string
	for _, ko := range b.Kos {
		dst := filepath.Join(out, filepath.Base(ko))
		if err := cache.CopyFile(dst, ko, 0o600); err != nil {
			return nil, err
		}
		copied = append(copied, dst)
	}
	sort.Strings(copied)
	nb.Kos = copied
	return &nb, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
