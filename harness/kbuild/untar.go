package kbuild

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// untarFile extracts a .tar.xz/.tar.gz/.tar kernel tarball into dst,
// stripping its top directory. Decompression runs in xz or gzip; the
// archive itself is read here, so that every member is checked before it is
// written: a name that is absolute or climbs out with "..", a symlink or
// hard link whose target leaves the tree, or a device or fifo, refuses the
// whole tarball (the caller's cache entry is then removed). Nothing is ever
// written outside dst.
func untarFile(ctx context.Context, tarball, dst string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	var cmd *exec.Cmd
	switch {
	case strings.HasSuffix(tarball, ".xz"):
		cmd = exec.CommandContext(ctx, "xz", "-dc", "-T0")
	case strings.HasSuffix(tarball, ".gz"):
		cmd = exec.CommandContext(ctx, "gzip", "-dc")
	}
	if cmd != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.Stdin = r
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%s: %w (install xz-utils)", cmd.Path, err)
		}
		r = bufio.NewReaderSize(out, 1<<20)
	}
	err = untar(r, dst)
	if cmd != nil {
		if err != nil {
			_ = cmd.Process.Kill()
		}
		_, _ = io.Copy(io.Discard, r)
		if werr := cmd.Wait(); err == nil && werr != nil {
			err = fmt.Errorf("decompress %s: %w", tarball, werr)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", tarball, err)
	}
	return nil
}

// errUnsafe marks a tarball member that would write outside the tree.
var errUnsafe = errors.New("unsafe tarball member")

// untar extracts a tar stream into dst with its top directory stripped.
func untar(r io.Reader, dst string) error {
	tr := tar.NewReader(r)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	// links are the symlinks extracted so far: nothing is written through
	// one, and each must resolve inside the tree once all are there.
	links := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return checkLinksResolve(dst, links)
		}
		if err != nil {
			return fmt.Errorf("read tarball: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
			continue
		}
		rel, err := memberPath(h.Name)
		if err != nil {
			return err
		}
		if rel == "" {
			continue // the top directory itself
		}
		if l := throughLink(rel, links); l != "" {
			return fmt.Errorf("%w: %s would be written through the symlink %s", errUnsafe, h.Name, l)
		}
		if links[rel] {
			return fmt.Errorf("%w: %s comes again after being a symlink", errUnsafe, h.Name)
		}
		if err := extractMember(tr, h, dst, rel, links); err != nil {
			return err
		}
	}
}

// extractMember writes the member h, at rel below dst, whose name and
// parents untar has checked: a directory, a regular file, a symlink (added
// to links) or a hard link; any other type is refused.
func extractMember(tr *tar.Reader, h *tar.Header, dst, rel string, links map[string]bool) error {
	target := filepath.Join(dst, filepath.FromSlash(rel))
	mode := os.FileMode(h.Mode).Perm()
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	case tar.TypeReg:
		if err := writeMember(target, tr, mode); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := writeSymlink(h, rel, target); err != nil {
			return err
		}
		links[rel] = true
	case tar.TypeLink:
		if err := writeHardLink(h, dst, target, links); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %s is a %s, which a kernel source tarball never holds", errUnsafe, h.Name, typeName(h.Typeflag))
	}
	return nil
}

// writeSymlink creates the symlink member h at target (rel below the top
// directory) once its link is checked to stay inside the tree.
func writeSymlink(h *tar.Header, rel, target string) error {
	if err := checkLink(rel, h.Linkname); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := replaceable(target); err != nil {
		return err
	}
	return os.Symlink(h.Linkname, target)
}

// writeHardLink creates the hard link member h at target: only to a
// regular file already unpacked, reached through no symlink (link(2)
// follows the symlinks of the old path's directories and would link a
// symlink itself).
func writeHardLink(h *tar.Header, dst, target string, links map[string]bool) error {
	lrel, err := memberPath(h.Linkname)
	if err != nil || lrel == "" {
		return fmt.Errorf("%w: hard link %s -> %s leaves the tree", errUnsafe, h.Name, h.Linkname)
	}
	if links[lrel] || throughLink(lrel, links) != "" {
		return fmt.Errorf("%w: hard link %s -> %s goes through a symlink", errUnsafe, h.Name, h.Linkname)
	}
	old := filepath.Join(dst, filepath.FromSlash(lrel))
	if st, err := os.Lstat(old); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%w: hard link %s -> %s: not a regular file of the tree", errUnsafe, h.Name, h.Linkname)
	}
	if err := replaceable(target); err != nil {
		return err
	}
	return os.Link(old, target)
}

// throughLink returns the symlink among the parent directories of rel, or "".
func throughLink(rel string, links map[string]bool) string {
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		if links[dir] {
			return dir
		}
	}
	return ""
}

// replaceable removes a file a later member of the same name replaces, so
// that the member is written anew (O_EXCL) and never through an old hard
// link; a directory is not replaced.
func replaceable(target string) error {
	st, err := os.Lstat(target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%w: %s replaces a directory", errUnsafe, target)
	}
	return os.Remove(target)
}

// memberPath returns a member's path below the top directory, refusing
// absolute paths and any ".." component.
func memberPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", fmt.Errorf("%w: absolute path %q", errUnsafe, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: path %q climbs out with ..", errUnsafe, name)
		}
	}
	clean := path.Clean(name)
	_, rest, _ := strings.Cut(clean, "/")
	if clean == "." {
		return "", nil
	}
	return rest, nil
}

// checkLinksResolve follows every extracted symlink (chains included) and
// refuses the tree when one ends outside it.
func checkLinksResolve(dst string, links map[string]bool) error {
	root, err := filepath.EvalSymlinks(dst)
	if err != nil {
		return err
	}
	for rel := range links {
		resolved, err := filepath.EvalSymlinks(filepath.Join(dst, filepath.FromSlash(rel)))
		if err != nil {
			continue // dangling inside the tree: nothing to follow
		}
		if resolved != root && !strings.HasPrefix(resolved, root+string(filepath.Separator)) {
			return fmt.Errorf("%w: symlink %s resolves to %s, outside the tree", errUnsafe, rel, resolved)
		}
	}
	return nil
}

// checkLink refuses a symlink at rel whose target is absolute or resolves
// outside the tree.
func checkLink(rel, link string) error {
	if path.IsAbs(link) {
		return fmt.Errorf("%w: symlink %s points to the absolute path %s", errUnsafe, rel, link)
	}
	resolved := path.Join(path.Dir(rel), link)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("%w: symlink %s -> %s leaves the tree", errUnsafe, rel, link)
	}
	return nil
}

// writeMember writes one regular file as a new file (O_EXCL, O_NOFOLLOW):
// never through a symlink or an earlier hard link; its parents were checked
// against the symlinks unpacked so far.
func writeMember(target string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := replaceable(target); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func typeName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("member of type %q", t)
}
