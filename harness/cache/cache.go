package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/progress"
)

// Dir is a cache root.
type Dir struct {
	// Root is the cache directory.
	Root string
}

// DefaultRoot is $XDG_CACHE_HOME/lkmtest, else ~/.cache/lkmtest.
func DefaultRoot() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "lkmtest"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find cache directory: %w (set --cache-dir or XDG_CACHE_HOME)", err)
	}
	return filepath.Join(home, ".cache", "lkmtest"), nil
}

// Open makes sure root exists (mode 0700) and returns it as a Dir.
func Open(root string) (*Dir, error) {
	if root == "" {
		var err error
		if root, err = DefaultRoot(); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create cache directory %s: %w", abs, ExplainNoSpace(err, abs))
	}
	return &Dir{Root: abs}, nil
}

// Key hashes its parts into a short hex key; parts are length-prefixed so
// that ("ab","c") and ("a","bc") differ.
func Key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// Path is the final directory of an entry.
func (d *Dir) Path(kind, key string) string { return filepath.Join(d.Root, kind, key) }

// Exists reports whether an entry was published.
func (d *Dir) Exists(kind, key string) bool {
	_, err := os.Stat(filepath.Join(d.Path(kind, key), ".complete"))
	return err == nil
}

// Builder fills tmp, the future entry directory. It may use tmp's path while
// building, but must not rely on it afterwards (the directory is renamed).
// It is an alias, so that packages can declare an interface Dir satisfies
// without importing this one (initramfs.Store).
type Builder = func(ctx context.Context, tmp string) error

// Ensure returns the directory of entry kind/key, building it with build
// when it is not published yet. Concurrent callers of the same key wait on
// a lock and then reuse the entry the first one published.
func (d *Dir) Ensure(ctx context.Context, kind, key string, build Builder) (dir string, built bool, err error) {
	final := d.Path(kind, key)
	if d.Exists(kind, key) {
		return final, false, nil
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", false, fmt.Errorf("cache: %w", ExplainNoSpace(err, parent))
	}
	unlock, err := Lock(ctx, filepath.Join(parent, key+".lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if d.Exists(kind, key) { // published while we waited
		return final, false, nil
	}
	// Whatever is left is from a killed or failed build: remove it.
	leftovers, _ := filepath.Glob(filepath.Join(parent, key+".tmp-*"))
	for _, l := range leftovers {
		_ = RemoveAll(l)
	}
	if _, err := os.Stat(final); err == nil { // a directory without .complete
		if err := RemoveAll(final); err != nil {
			return "", false, fmt.Errorf("cache: remove incomplete %s: %w", final, err)
		}
	}
	tmp, err := os.MkdirTemp(parent, key+".tmp-")
	if err != nil {
		return "", false, fmt.Errorf("cache: %w", ExplainNoSpace(err, parent))
	}
	start := time.Now()
	if err := build(ctx, tmp); err != nil {
		_ = RemoveAll(tmp)
		return "", false, ExplainNoSpace(err, d.Root)
	}
	progress.Record(ctx, kind, key, start)
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		_ = RemoveAll(tmp)
		return "", false, fmt.Errorf("cache: %w", ExplainNoSpace(err, parent))
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = RemoveAll(tmp)
		return "", false, fmt.Errorf("cache: publish %s: %w", final, err)
	}
	return final, true, nil
}

// Lock takes an exclusive flock on path, waiting until ctx is done, and
// returns the function that releases it.
func Lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("cache: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RemoveAll removes a tree even where it was made read-only.
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	_ = filepath.Walk(path, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// ErrNoSpace is wrapped by errors caused by a full disk.
var ErrNoSpace = errors.New("no space left on device")

// ExplainNoSpace turns ENOSPC (or EDQUOT) into an error naming dir.
func ExplainNoSpace(err error, dir string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || strings.Contains(err.Error(), "No space left on device") {
		if errors.Is(err, ErrNoSpace) {
			return err
		}
		return fmt.Errorf("%w in %s (free some space or choose another --cache-dir): %v", ErrNoSpace, dir, err)
	}
	return err
}

// WriteFileAtomic writes data to path through a temporary file and a rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), perm)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// CopyFile copies src to dst (created with perm).
func CopyFile(dst, src string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Create creates (or truncates) a file only its owner can read: lkmtest's
// logs and reports are 0600 in 0700 directories.
func Create(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}
