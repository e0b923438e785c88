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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
)

// Identify returns the source r names as far as a kernel cache key needs
// it (Identity and Version, the same as Resolve gives) without downloading
// or unpacking anything: a kernel.org release is named by its checksum, a
// Debian series by its tarball, whose top-level Makefile is read from the
// head of the archive (a fraction of a second) unless the tree is already
// in the cache; a local tree is resolved as Resolve does (it reads no file
// contents). Dir is set only when the tree is on disk already.
//
// CI uses it to compute the key of a kernel cache before restoring it
// ('lkmtest kernel key'), so the key must change exactly when a build
// would: TestIdentifyIsResolve checks both agree.
func Identify(ctx context.Context, c *cache.Dir, r SourceRequest) (*Source, error) {
	switch {
	case r.Local != "":
		return ResolveLocal(r.Local)
	case IsRelease(r.Kernel):
		sum, err := releaseSum(r.Kernel, r.SHA256)
		if err != nil {
			return nil, err
		}
		name := "linux-" + r.Kernel + ".tar.xz"
		src := &Source{Version: r.Kernel, Identity: "kernel.org:" + name + ":sha256:" + sum}
		if tree := filepath.Join(c.Path("src", cache.Key("source", src.Identity)), "tree"); isDir(tree) {
			src.Dir = tree
		}
		return src, nil
	}
	if err := checkSeries(r.Kernel); err != nil {
		return nil, err
	}
	tarball := DebianTarball(r.DebianDir, r.Kernel)
	st, err := os.Stat(tarball)
	if err != nil {
		return nil, fmt.Errorf("kernel source %s: %w", r.Kernel, &hostdeps.MissingTool{Tool: tarball, Package: "linux-source-" + r.Kernel, Err: err})
	}
	identity := fmt.Sprintf("debian:linux-source-%s:%d:%d", r.Kernel, st.Size(), st.ModTime().Unix())
	if tree := filepath.Join(c.Path("src", cache.Key("source", identity)), "tree"); isDir(tree) {
		ver, err := MakefileVersion(tree)
		if err != nil {
			return nil, err
		}
		return &Source{Dir: tree, Version: ver, Identity: identity}, nil
	}
	ver, err := tarballVersion(ctx, tarball)
	if err != nil {
		return nil, err
	}
	return &Source{Version: ver, Identity: identity}, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// tarballVersion reads the kernel version from the top-level Makefile of a
// kernel tarball (.tar.xz, .tar.gz or .tar), reading the archive only up to
// that member, with MakefileVersion, as an unpacked tree's is read.
func tarballVersion(ctx context.Context, tarball string) (string, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	var cmd *exec.Cmd
	switch {
	case strings.HasSuffix(tarball, ".xz"):
		cmd = exec.CommandContext(ctx, "xz", "-dc")
	case strings.HasSuffix(tarball, ".gz"):
		cmd = exec.CommandContext(ctx, "gzip", "-dc")
	}
	if cmd != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.Stdin = r
		out, err := cmd.StdoutPipe()
		if err != nil {
			return "", err
		}
		if err := cmd.Start(); err != nil {
			return "", fmt.Errorf("%s: %w (install xz-utils)", cmd.Path, err)
		}
		defer func() {
			cancel()
			_ = cmd.Wait()
		}()
		r = out
	}
	tmp, err := os.MkdirTemp("", "lkmtest-makefile-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s has no top-level Makefile: not a kernel source tarball", tarball)
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", tarball, err)
		}
		rel, err := memberPath(h.Name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", tarball, err)
		}
		if rel != "Makefile" || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return "", fmt.Errorf("read %s: %w", tarball, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "Makefile"), b, 0o600); err != nil {
			return "", err
		}
		return MakefileVersion(tmp)
	}
}
