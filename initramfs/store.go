package initramfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// Store is the cache initramfs keeps what it builds in; *cache.Dir is one.
type Store interface {
	// Ensure returns the directory of entry kind/key, first filling a
	// temporary directory with build and publishing it whole when the
	// entry does not exist yet.
	Ensure(ctx context.Context, kind, key string, build func(ctx context.Context, tmp string) error) (dir string, built bool, err error)
	// Path is where entry kind/key is, or will be, published.
	Path(kind, key string) string
	// Memo returns the small value stored under key, computing it with fn
	// the first time.
	Memo(key string, fn func() (string, error)) (string, error)
}

// key hashes its parts, length-prefixed, into a short hex cache key. It is
// cache.Key's hash (a test checks it), so entries built before initramfs
// took a Store keep their keys.
func key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// toolID identifies a program on the PATH by its resolved path, size and
// modification time, as cache.ToolID does (a test checks it): a memoized
// "go version" stays valid for the same binary only.
func toolID(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d:%d", p, st.Size(), st.ModTime().UnixNano()), nil
}

// removeAll removes a tree, also where a build left it read-only.
func removeAll(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}
