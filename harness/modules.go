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

// module finds the .ko of name; the kernel treats '-' and '_' in module
// names alike, and so does this lookup.
func (m builtModules) module(name string) (string, bool) {
	if ko, ok := m.kos[name]; ok {
		return ko, true
	}
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	for k, ko := range m.kos {
		if norm(k) == norm(name) {
			return ko, true
		}
	}
	return "", false
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
	var symvers []string
	var lastErr error
	errs := map[int]error{}
	for len(pending) > 0 {
		var next []job
		for _, j := range pending {
			out := filepath.Join(dir, "build", fmt.Sprintf("%d-%s", j.i, filepath.Base(j.tree.Dir)))
			b, err := buildModuleDir(ctx, t, j.tree, symvers, out)
			if err != nil {
				if ctx.Err() != nil {
					res.err = ctx.Err()
					return res
				}
				errs[j.i], lastErr = err, err
				next = append(next, j)
				continue
			}
			delete(errs, j.i)
			if b.Symvers != "" {
				symvers = append(symvers, b.Symvers)
			}
			for name, e := range b.Errors {
				res.errors[name] = fmt.Sprintf("%s (full log: %s)", e, filepath.Join(out, "build.log"))
			}
			if b.FirstError != "" {
				res.failed = append(res.failed, fmt.Sprintf("%s: %s (full log: %s)", j.tree.Dir, b.FirstError, filepath.Join(out, "build.log")))
			}
			for _, ko := range b.Kos {
				res.kos[strings.TrimSuffix(filepath.Base(ko), ".ko")] = ko
			}
		}
		if len(next) == len(pending) {
			break // no progress: what is left fails on its own
		}
		pending = next
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
	digest, err := kbuild.SourceDigest(tree.Dir)
	if err != nil {
		return nil, fmt.Errorf("build module %s: %w", tree.Dir, err)
	}
	parts := []string{"modules/v3", t.Kernel.Key, digest}
	for _, sv := range symvers {
		parts = append(parts, kbuild.OutsideDigest("/", []string{sv}))
	}
	contentKey := cache.Key(parts...)
	manifestPath := c.Path("modules", contentKey+".manifest.json")
	entryKey := func(m moduleManifest) string {
		return cache.Key(contentKey, kbuild.OutsideDigest(tree.Dir, m.Outside))
	}
	if b, err := os.ReadFile(manifestPath); err == nil {
		var m moduleManifest
		if json.Unmarshal(b, &m) == nil && c.Exists("modules", entryKey(m)) {
			return fromEntry(c.Path("modules", entryKey(m)), out)
		}
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
	b, err := kbuild.BuildModules(ctx, t.Kernel, t.Options.Arch, tree, work, symvers, t.Options.verbose())
	_ = cache.CopyFile(filepath.Join(out, "build.log"), filepath.Join(work, "build.log"), 0o600)
	if err != nil {
		return nil, err
	}
	if b.Partial {
		return copyBuilt(b, out)
	}
	m := moduleManifest{Outside: b.Outside}
	entry, _, err := c.Ensure(ctx, "modules", entryKey(m), func(ctx context.Context, tmp string) error {
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
		_ = cache.WriteFileAtomic(manifestPath, mb, 0o600)
	}
	return fromEntry(entry, out)
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

// copyBuilt copies the .ko files of b into out and returns b with them.
func copyBuilt(b *kbuild.ModuleBuild, out string) (*kbuild.ModuleBuild, error) {
	var copied []string
	for _, ko := range b.Kos {
		dst := filepath.Join(out, filepath.Base(ko))
		if err := cache.CopyFile(dst, ko, 0o600); err != nil {
			return nil, err
		}
		copied = append(copied, dst)
	}
	sort.Strings(copied)
	nb := *b
	nb.Kos = copied
	return &nb, nil
}

func sortedKeys(m map[string]string) []string {
	out := keys(m)
	sort.Strings(out)
	return out
}
