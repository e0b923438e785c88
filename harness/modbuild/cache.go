package modbuild

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/dkms"
)

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
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	rel, err := tree.Rel()
	if err != nil {
		return nil, err
	}
	isDKMS := dkms.Has(tree.Dir)
	k := &dirKeys{c: b.Cache, kernel: b.Kernel.Key, tree: tree, rel: rel, symvers: symvers}
	if isDKMS {
		k.mode = "dkms/v1"
	}
	ck, err := k.content()
	if err != nil {
		return nil, err
	}
	if entry, ok := k.lookup(ck); ok {
		return fromEntry(entry, out)
	}
	work := b.Cache.Path("modbuild", cache.Key("modbuild/v2", b.Kernel.Key, tree.Root, tree.Dir))
	if isDKMS {
		// A DKMS package is copied (not mirrored) and built alone.
		work = b.Cache.Path("modbuild", cache.Key("modbuild-dkms/v1", b.Kernel.Key, tree.Dir))
	}
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
	if ck, err = k.content(); err != nil {
		return nil, err
	}
	if entry, ok := k.lookup(ck); ok {
		return fromEntry(entry, out)
	}
	start := time.Now()
	var mb *ModuleBuild
	if isDKMS {
		mb, err = BuildDKMS(ctx, b.Kernel, b.Arch, tree.Dir, work, symvers, b.Log)
	} else {
		mb, err = BuildModules(ctx, b.Kernel, tree, work, symvers, b.Log)
	}
	_ = cache.CopyFile(filepath.Join(out, "build.log"), filepath.Join(work, "build.log"), 0o600)
	if err != nil {
		return nil, err
	}
	// What was built is what the key says only if no source changed
	// while make ran; else it is used once and not cached.
	after, err := k.content()
	if err != nil {
		return nil, err
	}
	if mb.Partial || after != ck || changedSince(tree.Dir, mb.Outside, start) {
		return copyBuilt(mb, out)
	}
	entry, err := k.publish(ctx, ck, mb, work)
	if err != nil {
		return nil, err
	}
	return fromEntry(entry, out)
}

// dirKeys compute the cache keys of one module directory's builds.
type dirKeys struct {
	c       *cache.Dir
	kernel  string
	tree    ModuleTree
	rel     string
	symvers []string
	// mode is "" for a kbuild module directory, "dkms/v1" for a DKMS
	// package (built another way: another key).
	mode string
}

// content names the directory's content and place, with the kernel and the
// Module.symvers it links against; with the manifest of what its last
// build read outside it, lookup finds a published build.
func (k *dirKeys) content() (string, error) {
	digest, err := SourceDigest(k.tree.Dir)
	if err != nil {
		return "", fmt.Errorf("build module %s: %w", k.tree.Dir, err)
	}
	// The tree's place is part of it: the objects name their sources
	// by it (debug info, __FILE__).
	parts := []string{"modules/v5", k.kernel, k.tree.Root, k.rel, digest}
	if k.mode != "" {
		parts = append(parts, k.mode)
	}
	for _, sv := range k.symvers {
		parts = append(parts, OutsideDigest("/", []string{sv}))
	}
	return cache.Key(parts...), nil
}

func (k *dirKeys) manifest(ck string) string { return k.c.Path("modules", ck+".manifest.json") }

func (k *dirKeys) entry(ck string, m moduleManifest) string {
	return cache.Key(ck, OutsideDigest(k.tree.Dir, m.Outside))
}

// lookup is the published build of content key ck, if any.
func (k *dirKeys) lookup(ck string) (string, bool) {
	var m moduleManifest
	if b, err := os.ReadFile(k.manifest(ck)); err != nil || json.Unmarshal(b, &m) != nil {
		return "", false
	}
	return k.c.Path("modules", k.entry(ck, m)), k.c.Exists("modules", k.entry(ck, m))
}

// publish puts mb (built in work) into the cache under content key ck and
// records its manifest.
func (k *dirKeys) publish(ctx context.Context, ck string, mb *ModuleBuild, work string) (string, error) {
	m := moduleManifest{Outside: mb.Outside}
	entry, _, err := k.c.Ensure(ctx, "modules", k.entry(ck, m), func(ctx context.Context, tmp string) error {
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
		return "", err
	}
	if b, err := json.Marshal(m); err == nil {
		_ = cache.WriteFileAtomic(k.manifest(ck), b, 0o600)
	}
	return entry, nil
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
