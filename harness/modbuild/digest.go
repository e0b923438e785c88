package modbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// outsideDeps lists the files of the mirror outside mdir that the build
// read, relative to mdir: those kbuild recorded as dependencies (the .cmd
// files' deps_ and source_ lists), and every makefile of the tree outside
// mdir (one Makefile includes another, include $(src)/../common.mk, in no
// .cmd file). One walk of the mirror finds both.
func outsideDeps(mirror, mdir string) []string {
	seen := map[string]bool{}
	add := func(f string) {
		if r, err := filepath.Rel(mdir, f); err == nil {
			seen[r] = true
		}
	}
	_ = filepath.WalkDir(mirror, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		n := d.Name()
		if !strings.HasPrefix(p, mdir+"/") && (n == "Makefile" || n == "Kbuild" || n == "makefile" || n == "GNUmakefile" || strings.HasSuffix(n, ".mk") || strings.HasSuffix(n, ".mak")) {
			add(p)
			return nil
		}
		if !strings.HasSuffix(n, ".cmd") || !strings.HasPrefix(n, ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			f = strings.TrimSuffix(f, ")")
			if strings.Contains(f, "$(") || strings.HasSuffix(f, ":=") || f == "\\" {
				continue
			}
			if !filepath.IsAbs(f) {
				// Kernels that run make in the module directory (6.13
				// and later) record paths relative to it.
				f = filepath.Join(mdir, f)
			}
			if f = filepath.Clean(f); !strings.HasPrefix(f, mirror+"/") || strings.HasPrefix(f, mdir+"/") || isBuildProduct(filepath.Base(f)) {
				continue
			}
			if st, err := os.Lstat(f); err == nil && st.Mode()&os.ModeSymlink != 0 {
				add(f) // only sources are links in the mirror
			}
		}
		return nil
	})
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// OutsideDigest hashes the contents of files named relative to dir (as
// ModuleBuild.Outside lists them); a missing file hashes as missing.
func OutsideDigest(dir string, files []string) string {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			fmt.Fprintf(h, "%d:%s:missing:", len(f), f)
			continue
		}
		fmt.Fprintf(h, "%d:%s:%d:", len(f), f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// SourceDigest hashes the names and contents of a module directory's source
// files (those walkSources finds, as the mirror links them): equal digests
// build equal modules against the same kernel.
func SourceDigest(src string) (string, error) {
	h := sha256.New()
	err := walkSources(src, func(rel string, data []byte) error {
		fmt.Fprintf(h, "%d:%s:%d:", len(rel), rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// walkSources calls fn for every source file under src: regular files (or
// links to them) that are not build products, outside hidden directories
// and lkmtest's run directories. Links to directories are followed, as the
// mirror does (a loop is an error).
func walkSources(src string, fn func(rel string, data []byte) error) error {
	var walk func(dir, prefix string, stack []string) error
	walk = func(dir, prefix string, stack []string) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return err
		}
		for _, s := range stack {
			if s == real {
				return fmt.Errorf("symlink loop: %s leads back to %s", dir, s)
			}
		}
		stack = append(stack, real)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			p, rel := filepath.Join(dir, e.Name()), filepath.Join(prefix, e.Name())
			st, err := os.Stat(p) // follows links
			if err != nil {
				continue // a dangling link
			}
			if skipInTree(e.Name(), st.IsDir()) {
				continue
			}
			switch {
			case st.IsDir():
				if err := walk(p, rel, stack); err != nil {
					return err
				}
			case st.Mode().IsRegular():
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := fn(rel, b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(src, "", nil)
}

func isBuildProduct(name string) bool {
	for _, suf := range []string{".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers", ".order", ".a"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return strings.HasPrefix(name, ".")
}
