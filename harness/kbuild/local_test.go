package kbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func localTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mk := "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 3\nEXTRAVERSION = -dev\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "mm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mm", "slab.c"), []byte("int x;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolveLocal(t *testing.T) {
	dir := localTree(t)
	a, err := ResolveLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != "6.12.3-dev" || a.Dir != dir {
		t.Errorf("got %+v", a)
	}
	// An edit gives a new identity (a new kernel cache key); .git does not count.
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	same, _ := ResolveLocal(dir)
	if same.Identity != a.Identity {
		t.Error("a .git directory changed the tree identity")
	}
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(dir, "mm", "slab.c"), []byte("int y;\n"), 0o644)
	os.Chtimes(filepath.Join(dir, "mm", "slab.c"), later, later)
	b, _ := ResolveLocal(dir)
	if b.Identity == a.Identity {
		t.Error("editing mm/slab.c did not change the tree identity")
	}
}

func TestResolveLocalErrors(t *testing.T) {
	dirty := localTree(t)
	os.WriteFile(filepath.Join(dirty, ".config"), []byte("CONFIG_X=y\n"), 0o644)
	generated := localTree(t)
	os.MkdirAll(filepath.Join(generated, "arch", "x86", "include", "generated"), 0o755)
	for _, tc := range []struct{ dir, want string }{
		{dirty, "make mrproper"},
		{generated, "arch/x86/include/generated exists"},
		{t.TempDir(), "not a kernel tree"},
		{filepath.Join(t.TempDir(), "nope"), "not a directory"},
	} {
		_, err := ResolveLocal(tc.dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--kernel-src") {
			t.Errorf("ResolveLocal(%s) = %v, want an error about --kernel-src containing %q", tc.dir, err, tc.want)
		}
	}
}
