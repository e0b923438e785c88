package kbuild

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// same fails unless Identify's source is Resolve's for the key: the same
// identity and version.
func same(t *testing.T, what string, id, res *Source) {
	t.Helper()
	if id.Identity != res.Identity || id.Version != res.Version {
		t.Errorf("%s: Identify gives (%q, %q), Resolve (%q, %q): the kernel key computed before a cache restore would differ from the build's",
			what, id.Identity, id.Version, res.Identity, res.Version)
	}
}

// TestIdentifyIsResolve: the identity and version Identify computes
// without downloading or unpacking are those of the resolved tree, for a
// kernel.org release and a Debian tarball, before and after the tree is
// in the cache; Identify fetches nothing.
func TestIdentifyIsResolve(t *testing.T) {
	ctx := context.Background()
	t.Run("release", func(t *testing.T) {
		const v = "6.6.60"
		body := fakeRelease(t, v)
		srv, hits := mirror(t, v, body, false)
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		req := SourceRequest{Kernel: v, SHA256: sumOf(body), Mirror: srv.URL}
		id, err := Identify(ctx, c, req)
		if err != nil {
			t.Fatal(err)
		}
		if hits.Load() != 0 || id.Dir != "" {
			t.Errorf("Identify fetched (%d requests) or found a tree (%q) in an empty cache", hits.Load(), id.Dir)
		}
		res, err := Resolve(ctx, c, req, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "release", id, res)
		again, err := Identify(ctx, c, req)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "release, cached", again, res)
		if again.Dir != res.Dir {
			t.Errorf("Identify of a cached release: dir %q, want %q", again.Dir, res.Dir)
		}
	})
	t.Run("debian", func(t *testing.T) {
		deb := t.TempDir()
		// A Debian-like tarball: linux-source-6.1/ on top, the Makefile
		// after other members (as in the real one, after Documentation/).
		top := filepath.Join(t.TempDir(), "linux-source-6.1")
		for _, d := range []string{"Documentation", "kernel"} {
			if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(top, "Documentation", "index.rst"), []byte(strings.Repeat("doc\n", 1000)), 0o644)
		os.WriteFile(filepath.Join(top, "Makefile"), []byte("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 999\nEXTRAVERSION =\n"), 0o644)
		tarball := DebianTarball(deb, "6.1")
		cmd := exec.Command("tar", "-cJf", tarball, "-C", filepath.Dir(top), "linux-source-6.1/Documentation", "linux-source-6.1/Makefile", "linux-source-6.1/kernel")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		req := SourceRequest{Kernel: "6.1", DebianDir: deb}
		id, err := Identify(ctx, c, req)
		if err != nil {
			t.Fatal(err)
		}
		if id.Version != "6.1.999" || id.Dir != "" {
			t.Errorf("Identify: version %q dir %q, want 6.1.999 and no tree (nothing unpacked)", id.Version, id.Dir)
		}
		if entries, _ := os.ReadDir(filepath.Join(c.Root, "src")); len(entries) != 0 {
			t.Errorf("Identify unpacked into the cache: %v", entries)
		}
		res, err := Resolve(ctx, c, req, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "debian", id, res)
		again, err := Identify(ctx, c, req)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "debian, cached", again, res)
	})
	t.Run("errors", func(t *testing.T) {
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Identify(ctx, c, SourceRequest{Kernel: "6.1", DebianDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "linux-source-6.1") {
			t.Errorf("no tarball: %v, want the missing linux-source-6.1 package named", err)
		}
		if _, err := Identify(ctx, c, SourceRequest{Kernel: "6.99.1"}); err == nil || !strings.Contains(err.Error(), "--kernel-sha256") {
			t.Errorf("unpinned release: %v, want the --kernel-sha256 hint", err)
		}
		if _, err := Identify(ctx, c, SourceRequest{Kernel: "4.0"}); err == nil {
			t.Error("unknown series: no error")
		}
	})
}

// TestIdentifyDebianTarball reads the version of this host's real Debian
// tarball from the head of the archive: the release its tree holds.
func TestIdentifyDebianTarball(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	tarball := DebianTarball("", "6.1")
	if _, err := os.Stat(tarball); err != nil {
		testenv.MustRun(t, tarball+" is not installed (apt-get install linux-source-6.1)")
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := Identify(context.Background(), c, SourceRequest{Kernel: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id.Version, "6.1.") || !strings.HasPrefix(id.Identity, "debian:linux-source-6.1:") {
		t.Errorf("Identify(6.1) = %+v", id)
	}
}
