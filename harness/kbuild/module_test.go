package kbuild

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSyncTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write := func(dir, name, text string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	write(src, "a.c", "same")
	write(src, "b.c", "new content")
	write(src, "sub/c.h", "header")
	write(src, "a.o", "stale object in the source tree")
	write(dst, "a.c", "same")
	write(dst, "b.c", "old content")
	write(dst, "gone.c", "deleted in src")
	write(dst, "a.ko", "build product")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dst, "a.c"), old, old)

	if err := syncTree(src, dst); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dst, name)); return string(b) }
	if read("b.c") != "new content" || read("sub/c.h") != "header" {
		t.Errorf("changed or new files not copied: b.c=%q c.h=%q", read("b.c"), read("sub/c.h"))
	}
	if st, _ := os.Stat(filepath.Join(dst, "a.c")); !st.ModTime().Equal(old) {
		t.Error("an identical file was rewritten (make would rebuild it)")
	}
	if _, err := os.Stat(filepath.Join(dst, "gone.c")); !os.IsNotExist(err) {
		t.Error("a source removed from src is still in dst")
	}
	if _, err := os.Stat(filepath.Join(dst, "a.o")); !os.IsNotExist(err) {
		t.Error("a build product was copied from src")
	}
	if read("a.ko") != "build product" {
		t.Error("a build product in dst was removed")
	}
}
