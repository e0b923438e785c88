package kbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/kver"
)

// Source is a pristine kernel source tree in the cache (never modified:
// kernels are built with O=).
type Source struct {
	// Dir is the top of the tree.
	Dir string
	// Version is the kernel version from its Makefile ("6.1.192").
	Version string
	// Identity names the origin of the tree for cache keys.
	Identity string
}

// DebianVersions are the kernel series Debian ships as linux-source-<v>.
var DebianVersions = []string{"6.1", "6.12"}

// DebianSrcDir is where linux-source-<series> installs its tarball.
const DebianSrcDir = "/usr/src"

// DebianTarball is the path of Debian's linux-source-<series> tarball in
// dir ("": DebianSrcDir; another for tarballs copied elsewhere).
func DebianTarball(dir, series string) string {
	if dir == "" {
		dir = DebianSrcDir
	}
	return filepath.Join(dir, fmt.Sprintf("linux-source-%s.tar.xz", series))
}

// SourceRequest names a kernel source: a local tree, a kernel.org release or
// a Debian series, in that order of precedence.
type SourceRequest struct {
	// Kernel is a Debian series ("6.1") or a kernel.org release ("6.6.60").
	Kernel string
	// Local is a kernel tree on disk (--kernel-src).
	Local string
	// SHA256 is the release tarball's checksum (default: the pinned table).
	SHA256 string
	// Mirror is the release download base URL (default DefaultMirror).
	Mirror string
	// DebianDir holds Debian's linux-source tarballs (default DebianSrcDir).
	DebianDir string
}

// Check validates r's names without touching the disk or the network, so
// that a usage error shows before any kernel is built.
func (r SourceRequest) Check() error {
	switch {
	case r.Local != "":
		return nil
	case IsRelease(r.Kernel):
		_, err := releaseSum(r.Kernel, r.SHA256)
		return err
	}
	return checkSeries(r.Kernel)
}

// checkSeries accepts a Debian series lkmtest knows.
func checkSeries(series string) error {
	for _, v := range DebianVersions {
		if v == series {
			return nil
		}
	}
	hint := ""
	if kver.Compare(series, OldestRelease) >= 0 && strings.Count(series, ".") == 1 {
		hint = fmt.Sprintf(" (%s has no Debian source package here: name one of its kernel.org releases, e.g. %s)", series, latestPinned(series))
	}
	return fmt.Errorf("--kernel %q: unknown kernel: name a Debian series (%s), a kernel.org release X.Y.Z (e.g. 5.4.302, 6.6.62) or a local tree with --kernel-src DIR%s",
		series, strings.Join(DebianVersions, ", "), hint)
}

// latestPinned is a pinned release of series, or series+".1".
func latestPinned(series string) string {
	best := ""
	for _, r := range PinnedReleases() {
		if r != series && kver.InSeries(r, series) && (best == "" || kver.Compare(r, best) > 0) {
			best = r
		}
	}
	if best == "" {
		return series + ".1"
	}
	return best
}

// Resolve returns the source tree r names, fetching and unpacking it into
// the cache when needed.
func Resolve(ctx context.Context, c *cache.Dir, r SourceRequest, log io.Writer) (*Source, error) {
	switch {
	case r.Local != "":
		return ResolveLocal(r.Local)
	case IsRelease(r.Kernel):
		return ResolveRelease(ctx, c, r.Kernel, r.SHA256, r.Mirror, log)
	}
	return ResolveDebian(ctx, c, r.DebianDir, r.Kernel, log)
}

// ResolveDebian unpacks Debian's linux-source-<series> tarball of dir (see
// DebianTarball) into the cache (once) and returns the tree.
func ResolveDebian(ctx context.Context, c *cache.Dir, dir, series string, log io.Writer) (*Source, error) {
	if err := checkSeries(series); err != nil {
		return nil, err
	}
	tarball := DebianTarball(dir, series)
	st, err := os.Stat(tarball)
	if err != nil {
		return nil, fmt.Errorf("kernel source %s: %w", series, &hostdeps.MissingTool{Tool: tarball, Package: "linux-source-" + series, Err: err})
	}
	identity := fmt.Sprintf("debian:linux-source-%s:%d:%d", series, st.Size(), st.ModTime().Unix())
	return unpackOnce(ctx, c, tarball, identity, log)
}

// unpackOnce unpacks tarball into the cache entry of identity (once) and
// returns the tree.
func unpackOnce(ctx context.Context, c *cache.Dir, tarball, identity string, log io.Writer) (*Source, error) {
	key := cache.Key("source", identity)
	dir, _, err := c.Ensure(ctx, "src", key, func(ctx context.Context, tmp string) error {
		fmt.Fprintf(log, "unpacking %s into the cache (once)\n", tarball)
		return unpack(ctx, tarball, filepath.Join(tmp, "tree"), log)
	})
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", tarball, err)
	}
	tree := filepath.Join(dir, "tree")
	ver, err := MakefileVersion(tree)
	if err != nil {
		return nil, err
	}
	return &Source{Dir: tree, Version: ver, Identity: identity}, nil
}

// unpack extracts a kernel tarball whose single top directory is stripped,
// then makes the tree read-only so that nothing builds in it by mistake.
func unpack(ctx context.Context, tarball, dst string, log io.Writer) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := untarFile(ctx, tarball, dst); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dst, "Makefile")); err != nil {
		return fmt.Errorf("%s does not look like a kernel source tarball (no top-level Makefile)", tarball)
	}
	return run(ctx, log, "", "chmod", "-R", "a-w", dst)
}

var makeVar = regexp.MustCompile(`(?m)^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$`)

// MakefileVersion reads the kernel version from a tree's top Makefile.
func MakefileVersion(tree string) (string, error) {
	b, err := os.ReadFile(filepath.Join(tree, "Makefile"))
	if err != nil {
		return "", fmt.Errorf("read kernel version: %w", err)
	}
	v := map[string]string{}
	for _, m := range makeVar.FindAllStringSubmatch(string(b), 4) {
		v[m[1]] = m[2]
	}
	if v["VERSION"] == "" || v["PATCHLEVEL"] == "" {
		return "", fmt.Errorf("%s/Makefile has no VERSION/PATCHLEVEL: not a kernel tree", tree)
	}
	ver := v["VERSION"] + "." + v["PATCHLEVEL"]
	if v["SUBLEVEL"] != "" {
		ver += "." + v["SUBLEVEL"]
	}
	return ver + v["EXTRAVERSION"], nil
}
