package kbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ResolveLocal checks a kernel tree the user owns (--kernel-src) and
// returns it. The tree is built out of tree (O=) and never written to; it
// must therefore be clean, as kbuild itself demands. Its identity digests
// every file's path, size and modification time, so an edit to the tree
// gives a new kernel cache key.
func ResolveLocal(dir string) (*Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--kernel-src %s: not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(abs, "Makefile")); err != nil {
		return nil, fmt.Errorf("--kernel-src %s: not a kernel tree (no top-level Makefile)", dir)
	}
	ver, err := MakefileVersion(abs)
	if err != nil {
		return nil, fmt.Errorf("--kernel-src %s: %w", dir, err)
	}
	dirty := []string{".config", "include/config"}
	if m, _ := filepath.Glob(filepath.Join(abs, "arch", "*", "include", "generated")); len(m) > 0 {
		rel, _ := filepath.Rel(abs, m[0])
		dirty = append(dirty, rel)
	}
	for _, d := range dirty {
		if _, err := os.Stat(filepath.Join(abs, d)); err == nil {
			return nil, fmt.Errorf("--kernel-src %s: the tree has been configured or built in place (%s exists); lkmtest builds out of tree (O=) and kbuild refuses an unclean source tree: run 'make mrproper' in %s", dir, d, abs)
		}
	}
	digest, err := treeDigest(abs)
	if err != nil {
		return nil, fmt.Errorf("--kernel-src %s: %w", dir, err)
	}
	return &Source{Dir: abs, Version: ver, Identity: "local:" + abs + ":" + digest}, nil
}

// treeDigest hashes the path, size, mode and mtime of every file under dir
// (not directories, skipping .git); it reads no file contents.
func treeDigest(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00%o\x00%d\n", rel, info.Size(), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}
