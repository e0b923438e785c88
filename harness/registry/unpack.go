package registry

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// verifier reads a blob, hashing what it reads: check compares the whole
// blob with its descriptor's digest and size.
type verifier struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	digest string
	size   int64
}

func newVerifier(r io.Reader, digest string, size int64) *verifier {
	// One byte past the size is read, so that a longer blob shows.
	return &verifier{r: io.LimitReader(r, size+1), h: sha256.New(), digest: digest, size: size}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	return n, err
}

// errDigest is wrapped by the error of a blob whose content is not what
// its digest and size say.
var errDigest = errors.New("does not match its digest")

// check reads the rest of the blob and compares it with the descriptor.
func (v *verifier) check() error {
	if _, err := io.Copy(io.Discard, v); err != nil {
		// The library checks the digest too, and may say so first.
		if strings.Contains(err.Error(), "error verifying") {
			return fmt.Errorf("blob %s %w (%v)", v.digest, errDigest, err)
		}
		return err
	}
	if v.n != v.size {
		return fmt.Errorf("blob %s %w: it is %d bytes, its descriptor says %d", v.digest, errDigest, v.n, v.size)
	}
	if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
		return fmt.Errorf("blob %s %w: its content hashes to %s", v.digest, errDigest, got)
	}
	return nil
}

// tree is a directory being filled from layers. It refuses what could
// write outside it or leave it ambiguous: absolute or escaping names,
// links that point out of it, files under a link, hard links and devices,
// and a file given twice.
type tree struct {
	root string

	mu    sync.Mutex
	bytes int64 // written so far, at most maxUnpacked
	names map[string]bool
	links map[string]bool
	dirs  map[string]*tar.Header
}

func newTree(root string) *tree {
	return &tree{root: root, names: map[string]bool{}, links: map[string]bool{}, dirs: map[string]*tar.Header{}}
}

// extract unpacks a tar stream whose names must all be under prefix/.
func (t *tree) extract(r io.Reader, prefix string) (files int, err error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("read tar: %w", err)
		}
		name, err := t.claim(hdr, prefix)
		if err != nil {
			return files, err
		}
		dst := filepath.Join(t.root, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return files, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return files, err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return files, err
			}
			_, err = io.CopyN(f, tr, hdr.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chmod(dst, fs.FileMode(hdr.Mode).Perm())
			}
			if err == nil {
				err = os.Chtimes(dst, hdr.ModTime, hdr.ModTime)
			}
			if err != nil {
				return files, fmt.Errorf("%s: %w", name, err)
			}
			files++
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return files, err
			}
			if err := os.Symlink(hdr.Linkname, dst); err != nil {
				return files, err
			}
			files++
		}
	}
}

// maxUnpacked bounds what a pull writes (a 6.1 kernel's artifact unpacks
// to about 55 MB; one with a debug vmlinux to a few hundred).
const maxUnpacked = 8 << 30

// claim checks one header and records its name.
func (t *tree) claim(hdr *tar.Header, prefix string) (string, error) {
	name := strings.TrimSuffix(hdr.Name, "/")
	if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("tar member %q: not a clean relative path", hdr.Name)
	}
	if name != prefix && !strings.HasPrefix(name, prefix+"/") {
		return "", fmt.Errorf("tar member %q: outside %s/", hdr.Name, prefix)
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg:
	case tar.TypeSymlink:
		target := hdr.Linkname
		if target == "" || strings.HasPrefix(target, "/") {
			return "", fmt.Errorf("tar member %q: link to %q: only relative links are kept", hdr.Name, target)
		}
		if to := path.Join(path.Dir(name), target); to == ".." || strings.HasPrefix(to, "../") {
			return "", fmt.Errorf("tar member %q: link to %q points out of the kernel entry", hdr.Name, target)
		}
	default:
		return "", fmt.Errorf("tar member %q: type %q: only files, directories and relative links are kept", hdr.Name, hdr.Typeflag)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bytes += hdr.Size; hdr.Size < 0 || t.bytes > maxUnpacked {
		return "", fmt.Errorf("tar member %q: the artifact unpacks to more than %d GiB", hdr.Name, maxUnpacked>>30)
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if t.links[p] {
			return "", fmt.Errorf("tar member %q: under the link %s", hdr.Name, p)
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		// Layers share directories (build/ holds the image and the
		// build layer): the first one's mode and time stand.
		if t.names[name] {
			return "", fmt.Errorf("tar member %q: a directory and a file", hdr.Name)
		}
		if t.dirs[name] == nil {
			t.dirs[name] = hdr
		}
		return name, nil
	}
	if t.names[name] || t.dirs[name] != nil {
		return "", fmt.Errorf("tar member %q: given twice", hdr.Name)
	}
	t.names[name] = true
	if hdr.Typeflag == tar.TypeSymlink {
		t.links[name] = true
	}
	return name, nil
}

// finish gives the directories their modes and times, deepest first
// (the files' writes set their times).
func (t *tree) finish() error {
	var names []string
	for n := range t.dirs {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		hdr, dst := t.dirs[n], filepath.Join(t.root, filepath.FromSlash(n))
		if err := os.Chmod(dst, fs.FileMode(hdr.Mode).Perm()|0o500); err != nil {
			return err
		}
		if err := os.Chtimes(dst, time.Now(), hdr.ModTime); err != nil {
			return err
		}
	}
	return nil
}

// unpackLayer reads one compressed layer blob into t, verifying it: the
// blob is read to its end and checked against digest and size whatever
// happened, and a mismatch is the error reported (it explains the rest).
func unpackLayer(t *tree, blob io.Reader, digest string, size int64, prefix string) (int, error) {
	v := newVerifier(blob, digest, size)
	zr, err := zstd.NewReader(v)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	files, xerr := t.extract(zr, prefix)
	if xerr == nil {
		// The end of the tar is not the end of the stream: a trailer
		// could follow, or garbage.
		if n, err := io.Copy(io.Discard, zr); err != nil {
			xerr = fmt.Errorf("decompress: %w", err)
		} else if n > 0 {
			xerr = fmt.Errorf("%d bytes after the end of the tar", n)
		}
	}
	if err := v.check(); err != nil {
		return files, err
	}
	return files, xerr
}

// errEssential is wrapped by the errors of an unpacked entry that lacks
// what booting or a module build needs.
var errEssential = errors.New("lacks a file a module build or boot needs")
