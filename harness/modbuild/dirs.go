package modbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/dkms"
	"github.com/lkmtest/lkmtest/harness/spec"
)

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
	if res.Skip = b.Excluded(ctx, s); res.Skip != "" {
		return res
	}
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

// Excluded says why a DKMS package among s's module directories is not
// built for the builder's kernel (its BUILD_EXCLUSIVE_* rules it out), ""
// when none is; a dkms.conf that cannot be read is left to the build,
// which reports it.
func (b *Builder) Excluded(ctx context.Context, s *spec.Spec) string {
	for _, m := range s.Modules {
		dir, err := filepath.Abs(filepath.Join(s.Dir, m))
		if err != nil || !dkms.Has(dir) {
			continue
		}
		if c, err := LoadDKMS(ctx, b.Kernel, b.Arch, dir, ""); err == nil && c.Excluded != "" {
			return c.Excluded
		}
	}
	return ""
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
		var ex *ExcludedError
		if errors.As(d.errs[i], &ex) {
			res.Skip = ex.Reason
			return
		}
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
