package initramfs

import (
	"context"
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
	// Key hashes parts into an entry key.
	Key(parts ...string) string
	// ToolID identifies a program on the PATH (its path, size and time),
	// for keys that must change with it.
	ToolID(name string) (string, error)
	// RemoveAll removes a tree, also where a build left it read-only.
	RemoveAll(path string) error
}
