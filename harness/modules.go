package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// builtModules is the outcome of building a test's modules.
type builtModules struct {
	kos     map[string]string // module name (the .ko file name without .ko) -> .ko path
	helpers map[string]string // helper name -> static binary
	// err: nothing could be built; the test is ERROR before any step.
	err error
	// failed are the first errors of module directories that built only
	// in part or not at all, for the steps that need a missing module.
	failed []string
	// errors are the first errors of modules known to have failed, by name.
	errors map[string]string
	done   time.Time // when the build finished
}

// missing explains why the module a step needs was not built.
func (m builtModules) missing(name string) string {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	for k, e := range m.errors {
		if norm(k) == norm(name) {
			return fmt.Sprintf("module %s was not built: %s", name, e)
		}
	}
	if len(m.failed) > 0 {
		return fmt.Sprintf("module %s was not built: %s", name, strings.Join(m.failed, "; "))
	}
	return fmt.Sprintf("no module %s.ko was built (built: %s)", name, strings.Join(sortedKeys(m.kos), ", "))
}

// buildModules builds every module directory of s against the target
// kernel. Directories are built in the spec's order, each seeing the
// Module.symvers of those built before it; a directory whose modules use
// exports of a later one is retried after it (dependency order).
func buildModules(ctx context.Context, t *Target, s *spec.Spec, dir string) builtModules {
	res := builtModules{kos: map[string]string{}, errors: map[string]string{}}
	if res.helpers, res.err = buildHelpers(ctx, t, s); res.err != nil {
		return res
	}
	root, err := s.TreeRoot()
	if err != nil {
		res.err = err
		return res
	}
	type job struct {
		i    int
		tree kbuild.ModuleTree
	}
	var pending []job
	for i, m := range s.Modules {
		src, err := filepath.Abs(filepath.Join(s.Dir, m))
		if err != nil {
			res.err = err
			return res
		}
		pending = append(pending, job{i, kbuild.ModuleTree{Root: root, Dir: src}})
	}
	// Each directory is built on its own first, as make in it would; one
	// whose modules use symbols no kernel exports (modpost: "undefined!")
	// is built again against the other directories' Module.symvers
	// (KBUILD_EXTRA_SYMBOLS), in passes until nothing changes: so the
	// order of modules: does not matter. That a directory needs them is
	// remembered per (kernel, content), so the next run goes straight to it.
	built := map[int]*kbuild.ModuleBuild{}
	outs := map[int]string{}
	errs := map[int]error{}
	needs := map[int]bool{}
	tried := map[int]string{}
	symversFor := func(i int) []string {
		var out []string
		for _, j := range pending {
			if b := built[j.i]; j.i != i && b != nil && b.Symvers != "" {
				out = append(out, b.Symvers)
			}
		}
		return out
	}
	memo := func(j job) string {
		d, err := kbuild.SourceDigest(j.tree.Dir)
		if err != nil {
			return ""
		}
		return t.Options.Cache.Path("modules", cache.Key("needs-symvers/v1", t.Kernel.Key, d)+".needs-symvers")
	}
	for _, j := range pending {
		if m := memo(j); m != "" && len(pending) > 1 {
			_, err := os.Stat(m)
			needs[j.i] = err == nil
		}
	}
	for pass := 0; pass <= 2*len(pending); pass++ {
		progress := false
		for _, j := range pending {
			if b := built[j.i]; b != nil && !b.Partial {
				continue
			}
			var sv []string
			if needs[j.i] {
				sv = symversFor(j.i)
			}
			if key := fmt.Sprint(needs[j.i], len(sv)); tried[j.i] == key {
				continue // built like this already
			} else {
				tried[j.i] = key
			}
			outs[j.i] = filepath.Join(dir, "build", fmt.Sprintf("%d-%s", j.i, filepath.Base(j.tree.Dir)))
			b, err := buildModuleDir(ctx, t, j.tree, sv, outs[j.i])
			if ctx.Err() != nil {
				res.err = ctx.Err()
				return res
			}
			if !needs[j.i] && len(pending) > 1 && undefinedSymbols(b, err) {
				needs[j.i], progress = true, true
			}
			if err != nil {
				errs[j.i] = err
				continue
			}
			delete(errs, j.i)
			if old := built[j.i]; old == nil || len(b.Kos) > len(old.Kos) {
				progress = true
			}
			built[j.i] = b
			if needs[j.i] && !b.Partial && len(sv) > 0 {
				if m := memo(j); m != "" {
					_ = cache.WriteFileAtomic(m, nil, 0o600)
				}
			}
		}
		if !progress {
			break
		}
	}
	var lastErr error
	for _, j := range pending {
		if err := errs[j.i]; err != nil {
			lastErr = err
		}
		b := built[j.i]
		if b == nil {
			continue
		}
		log := filepath.Join(outs[j.i], "build.log")
		for name, e := range b.Errors {
			res.errors[name] = fmt.Sprintf("%s (full log: %s)", e, log)
		}
		if b.FirstError != "" {
			res.failed = append(res.failed, fmt.Sprintf("%s: %s (full log: %s)", j.tree.Dir, b.FirstError, log))
		}
		for _, ko := range b.Kos {
			res.kos[strings.TrimSuffix(filepath.Base(ko), ".ko")] = ko
		}
	}
	var firsts []string
	for i := range s.Modules {
		if err := errs[i]; err != nil {
			var be *kbuild.ModuleBuildError
			if !errors.As(err, &be) {
				res.err = err // not a compiler error: the test cannot run
				return res
			}
			firsts = append(firsts, err.Error())
		}
	}
	if len(res.kos) == 0 && lastErr != nil {
		// Nothing built: the test is ERROR at once, with every failure.
		res.err = errors.New(strings.Join(firsts, "; "))
		return res
	}
	res.failed = append(res.failed, firsts...)
	return res
}

// smokeSpec writes the steps of the smoke test of a module directory
// without a test.yaml, now that its modules are built: every module loaded
// in dependency order, then unloaded in reverse. The spec is saved in the
// test's directory, so that lkmtest verdict can judge the run again.
func smokeSpec(p *spec.Spec, mods builtModules, dir string) (*spec.Spec, error) {
	if len(mods.failed) > 0 {
		return nil, fmt.Errorf("not every module of %s built: %s", p.Dir, strings.Join(mods.failed, "; "))
	}
	names := keys(mods.kos)
	deps := map[string][]string{}
	for _, n := range names {
		d, err := kbuild.Depends(mods.kos[n])
		if err != nil {
			return nil, err
		}
		deps[n] = d
	}
	s, text, err := spec.Smoke(p, kbuild.LoadOrder(names, deps))
	if err != nil {
		return nil, fmt.Errorf("smoke test of %s: %w", p.Dir, err)
	}
	_ = os.WriteFile(filepath.Join(dir, SavedSpec), text, 0o600)
	return s, nil
}

// undefinedSymbols reports whether a module build failed, in whole or in
// part, on symbols modpost could not resolve.
func undefinedSymbols(b *kbuild.ModuleBuild, err error) bool {
	var be *kbuild.ModuleBuildError
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
func buildModuleDir(ctx context.Context, t *Target, tree kbuild.ModuleTree, symvers []string, out string) (*kbuild.ModuleBuild, error) {
	c := t.Options.Cache
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
		digest, err := kbuild.SourceDigest(tree.Dir)
		if err != nil {
			return "", fmt.Errorf("build module %s: %w", tree.Dir, err)
		}
		parts := []string{"modules/v4", t.Kernel.Key, rel, digest}
		for _, sv := range symvers {
			parts = append(parts, kbuild.OutsideDigest("/", []string{sv}))
		}
		return cache.Key(parts...), nil
	}
	manifestPath := func(ck string) string { return c.Path("modules", ck+".manifest.json") }
	entryKey := func(ck string, m moduleManifest) string {
		return cache.Key(ck, kbuild.OutsideDigest(tree.Dir, m.Outside))
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
	work := c.Path("modbuild", cache.Key("modbuild/v2", t.Kernel.Key, tree.Root, tree.Dir))
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
	b, err := kbuild.BuildModules(ctx, t.Kernel, t.Options.Arch, tree, work, symvers, t.Options.verbose())
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
	if b.Partial || after != ck || changedSince(tree.Dir, b.Outside, start) {
		return copyBuilt(b, out)
	}
	m := moduleManifest{Outside: b.Outside}
	entry, _, err := c.Ensure(ctx, "modules", entryKey(ck, m), func(ctx context.Context, tmp string) error {
		if err := os.Mkdir(filepath.Join(tmp, "ko"), 0o700); err != nil {
			return err
		}
		for _, ko := range b.Kos {
			if err := cache.CopyFile(filepath.Join(tmp, "ko", filepath.Base(ko)), ko, 0o600); err != nil {
				return err
			}
		}
		if b.Symvers != "" {
			if err := cache.CopyFile(filepath.Join(tmp, "Module.symvers"), b.Symvers, 0o600); err != nil {
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
func fromEntry(entry, out string) (*kbuild.ModuleBuild, error) {
	_ = cache.CopyFile(filepath.Join(out, "build.log"), filepath.Join(entry, "build.log"), 0o600)
	kos, _ := filepath.Glob(filepath.Join(entry, "ko", "*.ko"))
	b := &kbuild.ModuleBuild{Kos: kos}
	if _, err := os.Stat(filepath.Join(entry, "Module.symvers")); err == nil {
		b.Symvers = filepath.Join(entry, "Module.symvers")
	}
	return copyBuilt(b, out)
}

// copyBuilt copies the .ko files and Module.symvers of b into out and
// returns b with them (so nothing of a work directory is read after its
// lock is released).
func copyBuilt(b *kbuild.ModuleBuild, out string) (*kbuild.ModuleBuild, error) {
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
	out := keys(m)
	sort.Strings(out)
	return out
}
