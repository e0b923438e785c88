package kbuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
)

// fakeRelease makes linux-<version>.tar.xz holding a tree whose Makefile
// says version, and returns its bytes.
func fakeRelease(t *testing.T, version string) []byte {
	t.Helper()
	dir := t.TempDir()
	top := filepath.Join(dir, "linux-"+version)
	if err := os.MkdirAll(filepath.Join(top, "kernel"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := strings.Split(version, ".")
	mk := "# SPDX-License-Identifier: GPL-2.0\nVERSION = " + p[0] + "\nPATCHLEVEL = " + p[1] + "\nSUBLEVEL = " + p[2] + "\nEXTRAVERSION =\nNAME = Test\n"
	if err := os.WriteFile(filepath.Join(top, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "kernel", "fork.c"), []byte(strings.Repeat("/* padding */\n", 4000)), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, "out.tar.xz")
	if out, err := exec.Command("tar", "-cJf", tarball, "-C", dir, "linux-"+version).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	b, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mirror serves body at /v<major>.x/linux-<version>.tar.xz; with truncate it
// announces the full length but sends half of it.
func mirror(t *testing.T, version string, body []byte, truncate bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	path := "/v" + strings.Split(version, ".")[0] + ".x/linux-" + version + ".tar.xz"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if truncate {
			w.Write(body[:len(body)/2])
			// Hijack and close: the client sees a short body.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
				}
			}
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server is not on 127.0.0.1: %s", srv.URL)
	}
	return srv, &hits
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// assertNothingCached fails if any entry (or leftover) is in the cache's
// downloads/ or src/.
func assertNothingCached(t *testing.T, c *cache.Dir) {
	t.Helper()
	for _, kind := range []string{"downloads", "src"} {
		entries, _ := os.ReadDir(filepath.Join(c.Root, kind))
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".lock") {
				t.Errorf("%s/%s left in the cache after a failed download", kind, e.Name())
			}
		}
	}
}

func TestResolveReleaseGood(t *testing.T) {
	const v = "6.6.60"
	body := fakeRelease(t, v)
	srv, hits := mirror(t, v, body, false)
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := ResolveRelease(context.Background(), c, v, sumOf(body), srv.URL, io.Discard)
	if err != nil {
		t.Fatalf("ResolveRelease: %v", err)
	}
	if src.Version != v {
		t.Errorf("version %q, want %q", src.Version, v)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "kernel", "fork.c")); err != nil {
		t.Errorf("unpacked tree lacks kernel/fork.c: %v", err)
	}
	if !strings.Contains(src.Identity, sumOf(body)) {
		t.Errorf("identity %q does not name the checksum", src.Identity)
	}
	// The second resolve is served from the cache: no request.
	if _, err := ResolveRelease(context.Background(), c, v, sumOf(body), srv.URL, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests to the mirror, want 1 (the second resolve must hit the cache)", n)
	}
}

func TestResolveReleaseBadChecksum(t *testing.T) {
	const v = "6.6.60"
	body := fakeRelease(t, v)
	srv, _ := mirror(t, v, body, false)
	c, _ := cache.Open(t.TempDir())
	wrong := sumOf([]byte("not the tarball"))
	_, err := ResolveRelease(context.Background(), c, v, wrong, srv.URL, io.Discard)
	if err == nil {
		t.Fatal("a tarball with the wrong checksum was accepted")
	}
	for _, want := range []string{"sha256 mismatch", sumOf(body), wrong, "--kernel-sha256"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	assertNothingCached(t, c)
}

func TestResolveReleaseTruncated(t *testing.T) {
	const v = "5.4.302"
	body := fakeRelease(t, v)
	srv, _ := mirror(t, v, body, true)
	c, _ := cache.Open(t.TempDir())
	_, err := ResolveRelease(context.Background(), c, v, sumOf(body), srv.URL, io.Discard)
	if err == nil {
		t.Fatal("a truncated download was accepted")
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %q does not say truncated", err)
	}
	assertNothingCached(t, c)
}

func TestResolveReleaseErrors(t *testing.T) {
	const v = "6.6.60"
	body := fakeRelease(t, v)
	srv, _ := mirror(t, v, body, false)
	c, _ := cache.Open(t.TempDir())
	for _, tc := range []struct {
		version, sum, mirror, want string
	}{
		{"6.6.61", sumOf(body), srv.URL, "404"},
		{"6.6.99", "", srv.URL, "no pinned sha256 for linux-6.6.99.tar.xz"},
		{"4.19.1", sumOf(body), srv.URL, "older than 5.4"},
		{"6.6.60", "abc", srv.URL, "64 hex digits"},
		{"6.6", sumOf(body), srv.URL, "not a kernel.org release"},
		{"6.6.60", sumOf(body), "http://127.0.0.1:1", "LKMTEST_KERNEL_MIRROR"},
		// Only HTTPS, or plain HTTP to a loopback mirror.
		{"6.6.60", sumOf(body), "http://mirror.example.invalid/pub", "only over HTTPS"},
		{"6.6.60", sumOf(body), "ftp://mirror.example.invalid/pub", "only over HTTPS"},
		{"6.6.60", sumOf(body), redirector(t, "http://mirror.example.invalid/linux.tar.xz"), "only over HTTPS"},
	} {
		_, err := ResolveRelease(context.Background(), c, tc.version, tc.sum, tc.mirror, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResolveRelease(%s, %q, %s) = %v, want an error containing %q", tc.version, tc.sum, tc.mirror, err, tc.want)
		}
	}
	assertNothingCached(t, c)
}

// A tarball whose Makefile names another version than asked is refused.
func TestResolveReleaseWrongTree(t *testing.T) {
	body := fakeRelease(t, "6.6.59")
	srv, _ := mirror(t, "6.6.60", body, false)
	c, _ := cache.Open(t.TempDir())
	_, err := ResolveRelease(context.Background(), c, "6.6.60", sumOf(body), srv.URL, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Makefile says 6.6.59") {
		t.Errorf("err = %v, want a version mismatch", err)
	}
}

func TestPinnedTable(t *testing.T) {
	rels := PinnedReleases()
	if len(rels) == 0 {
		t.Fatal("kernelorg.sha256 pins nothing")
	}
	for _, r := range rels {
		if !IsRelease(r) {
			t.Errorf("pinned %q is not X.Y.Z", r)
		}
		if s := PinnedSHA256(r); !sha256RE.MatchString(s) {
			t.Errorf("pinned sum of %s is %q", r, s)
		}
	}
	if PinnedSHA256("5.4.302") != "ae6a3207f12aa4d6cfb0fa793ec9da4a6fcdfdcb57d869d63d6b77e3a8c1423d" {
		t.Error("5.4.302 is not pinned to its published sha256")
	}
}

// redirector is a loopback server that redirects every request to target.
func redirector(t *testing.T, target string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
