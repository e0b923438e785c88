package modbuild

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A module is built inside a mirror of the tree that contains it, so that
// relative includes and objects reaching up (`#include "../../convenient.h"`,
// `foo-objs := main.o ../../klib.o`, `ccflags-y += -I$(src)/../include`)
// find the files around it as they are in place, while kbuild writes its
// objects into the mirror and never into the user's tree. The mirror has a
// real directory for every directory of the tree and a symbolic link for
// every source file: creating it copies nothing, make follows the links to
// the sources' own modification times (so only what an edit touched is
// rebuilt), and the compiler's messages name paths that map back to the
// user's tree by one prefix.

// MaxTreeFiles bounds the files of a mirrored tree: a module inside a kernel
// checkout or a home directory would otherwise mirror far too much.
const MaxTreeFiles = 50000

// ModuleTree is a module directory and the tree root it may reach into.
type ModuleTree struct {
	// Root is the tree's top directory (absolute).
	Root string
	// Dir is the module directory (absolute), inside Root.
	Dir string
}

// Rel is Dir relative to Root ("." when they are the same).
func (t ModuleTree) Rel() (string, error) {
	rel, err := filepath.Rel(t.Root, t.Dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("module directory %s is not inside the tree root %s: set root: in test.yaml to a directory that contains it", t.Dir, t.Root)
	}
	return rel, nil
}

// skipInTree reports whether a directory entry of a user's tree stays out
// of the mirror: hidden files and directories (.git, editor state, kbuild's
// own .cmd files), build products of an earlier host build, and lkmtest's
// run directories (which hold copies of module build directories).
func skipInTree(name string, dir bool) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	if dir {
		return name == "lkmtest-out"
	}
	return isBuildProduct(name) || name == "modules.order" || name == "Module.symvers"
}

// mirrorTree makes mirror a mirror of root (see above): it creates missing
// directories and links, repoints links whose target changed, and removes
// links to sources that are gone. Build products in the mirror are kept. A
// symbolic link to a directory is mirrored as a directory (kbuild may write
// into it); a link that leads back into a directory being mirrored is a
// loop and an error. A directory holding the mirror (a cache inside the
// tree) is left out, unless it holds keep (the module directory) too.
func mirrorTree(root, mirror, keep string) error {
	if err := os.MkdirAll(filepath.Dir(mirror), 0o755); err != nil {
		return err
	}
	work, _ := filepath.EvalSymlinks(filepath.Dir(mirror))
	m := &mirrorer{root: root, keep: keep, work: work, want: map[string]bool{}}
	if err := m.dir(root, mirror, nil); err != nil {
		return err
	}
	// Links whose source is gone go (else make would find a dangling
	// source and the build would differ from the tree's).
	return filepath.WalkDir(mirror, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type()&os.ModeSymlink != 0 && !m.want[p] {
			return os.Remove(p)
		}
		return nil
	})
}

// mirrorer is one mirrorTree walk.
type mirrorer struct {
	root, keep string
	work       string          // the mirror's parent, links resolved
	want       map[string]bool // the links the mirror must hold
	files      int
}

// dir mirrors the directory src as dst; stack holds the real paths of the
// directories being mirrored (a link back into one is a loop).
func (m *mirrorer) dir(src, dst string, stack []string) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	for _, s := range stack {
		if s == real {
			return fmt.Errorf("symlink loop: %s leads back to %s", src, s)
		}
	}
	stack = append(stack, real)
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	// dst must be a real directory of the mirror: a link left from when
	// the source was a file (or a link to one) would lead the walk into
	// the user's tree.
	if st, err := os.Lstat(dst); err == nil && !st.IsDir() {
		if err := os.Remove(dst); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dst, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	for _, e := range ents {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(s); err == nil && st.IsDir() {
				isDir = true
			}
		}
		switch {
		case skipInTree(e.Name(), isDir):
		case isDir && excluded(s, m.work) && !within(s, m.keep):
			// the cache (holding the mirror) inside the tree
		case isDir:
			if err := m.dir(s, d, stack); err != nil {
				return err
			}
		case !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0:
			// sockets, fifos, devices
		default:
			if err := m.link(s, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// link makes d a link to the source file s.
func (m *mirrorer) link(s, d string) error {
	if m.files++; m.files > MaxTreeFiles {
		return fmt.Errorf("the tree %s has more than %d files: set root: in test.yaml to the smallest directory that holds the module and what it includes", m.root, MaxTreeFiles)
	}
	m.want[d] = true
	if cur, err := os.Readlink(d); err == nil {
		if cur == s {
			return nil
		}
		if err := os.Remove(d); err != nil {
			return err
		}
	} else if _, err := os.Lstat(d); err == nil {
		// A regular file where a source now is (a build product of the
		// same name, or an older copy): replace it.
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return os.Symlink(s, d)
}

// within reports whether p is dir or inside it ("" is inside nothing).
func within(dir, p string) bool {
	if p == "" {
		return false
	}
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../")
}

// excluded reports whether the source directory dir holds work, the
// directory of the mirror (a cache directory inside the user's tree):
// mirroring it would mirror the mirror.
func excluded(dir, work string) bool {
	if work == "" {
		return false
	}
	rd, err := filepath.EvalSymlinks(dir)
	return err == nil && (work == rd || strings.HasPrefix(work, rd+"/"))
}
