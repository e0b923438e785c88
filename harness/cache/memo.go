package cache

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ToolID identifies a program found on PATH by its resolved path, size and
// modification time (dpkg keeps a package's mtimes, so the same package
// version has the same ID on every machine).
func ToolID(name string) (string, error) {
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

// Memo returns the small value stored under key, computing and storing it
// with fn on a miss. It keeps, for example, "gcc --version" per compiler
// binary, so a warm run starts no extra processes.
func (d *Dir) Memo(key string, fn func() (string, error)) (string, error) {
	p := filepath.Join(d.Root, "memo", Key(key))
	if b, err := os.ReadFile(p); err == nil {
		return string(b), nil
	}
	v, err := fn()
	if err != nil {
		return "", err
	}
	if os.MkdirAll(filepath.Dir(p), 0o700) == nil {
		_ = WriteFileAtomic(p, []byte(v), 0o600)
	}
	return v, nil
}

// Key is Key, for users that take a *Dir through an interface (initramfs).
func (d *Dir) Key(parts ...string) string { return Key(parts...) }

// ToolID is ToolID, for users that take a *Dir through an interface.
func (d *Dir) ToolID(name string) (string, error) { return ToolID(name) }

// RemoveAll is RemoveAll, for users that take a *Dir through an interface.
func (d *Dir) RemoveAll(path string) error { return RemoveAll(path) }
