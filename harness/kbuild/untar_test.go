package kbuild

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type member struct {
	name, link string
	typ        byte
	body       string
}

func tarball(t *testing.T, members []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.body))}
		if m.typ != tar.TypeReg {
			h.Size = 0
		}
		if m.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestUntarRefusesUnsafe(t *testing.T) {
	top := member{name: "linux-6.1/", typ: tar.TypeDir}
	mk := member{name: "linux-6.1/Makefile", typ: tar.TypeReg, body: "VERSION = 6\n"}
	cases := map[string][]member{
		"dot-dot path":           {top, mk, {name: "linux-6.1/../../evil", typ: tar.TypeReg, body: "x"}},
		"dot-dot at the top":     {{name: "../evil", typ: tar.TypeReg, body: "x"}},
		"absolute path":          {top, {name: "/tmp/lkmtest-evil", typ: tar.TypeReg, body: "x"}},
		"absolute symlink":       {top, mk, {name: "linux-6.1/etc", typ: tar.TypeSymlink, link: "/etc"}},
		"symlink climbing out":   {top, mk, {name: "linux-6.1/up", typ: tar.TypeSymlink, link: "../../.."}},
		"write through symlink":  {top, {name: "linux-6.1/sub/", typ: tar.TypeDir}, {name: "linux-6.1/l", typ: tar.TypeSymlink, link: "sub"}, {name: "linux-6.1/l/f", typ: tar.TypeReg, body: "x"}},
		"symlink chain escaping": {top, {name: "linux-6.1/d/", typ: tar.TypeDir}, {name: "linux-6.1/d/e/", typ: tar.TypeDir}, {name: "linux-6.1/d/y", typ: tar.TypeSymlink, link: ".."}, {name: "linux-6.1/d/e/x", typ: tar.TypeSymlink, link: "../y/../.."}},
		"hard link out":          {top, mk, {name: "linux-6.1/h", typ: tar.TypeLink, link: "../../etc/passwd"}},
		"device":                 {top, mk, {name: "linux-6.1/dev", typ: tar.TypeChar}},
		// Found in review: a hard link through an escaping symlink chain,
		// then a regular member of the same name (overwrite outside).
		"hard link through a chain, then overwritten": {top, {name: "linux-6.1/d/", typ: tar.TypeDir}, {name: "linux-6.1/d/e/", typ: tar.TypeDir}, {name: "linux-6.1/d/y", typ: tar.TypeSymlink, link: ".."}, {name: "linux-6.1/d/e/x", typ: tar.TypeSymlink, link: "../y/../.."}, {name: "linux-6.1/h", typ: tar.TypeLink, link: "linux-6.1/d/e/x/victim"}, {name: "linux-6.1/h", typ: tar.TypeReg, body: "PWNED"}},
		// ... and a hard link to a symlink, then a member below it.
		"hard link to a symlink":     {top, {name: "linux-6.1/d/", typ: tar.TypeDir}, {name: "linux-6.1/d/e/", typ: tar.TypeDir}, {name: "linux-6.1/d/y", typ: tar.TypeSymlink, link: ".."}, {name: "linux-6.1/d/e/x", typ: tar.TypeSymlink, link: "../y/../.."}, {name: "linux-6.1/d/e/h", typ: tar.TypeLink, link: "linux-6.1/d/e/x"}, {name: "linux-6.1/d/e/h/evil", typ: tar.TypeReg, body: "x"}},
		"member replacing a symlink": {top, mk, {name: "linux-6.1/l", typ: tar.TypeSymlink, link: "Makefile"}, {name: "linux-6.1/l", typ: tar.TypeReg, body: "x"}},
	}
	for name, members := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			err := untar(bytes.NewReader(tarball(t, members)), filepath.Join(parent, "tree"))
			if !errors.Is(err, errUnsafe) {
				t.Fatalf("untar = %v, want an unsafe-member error", err)
			}
			// Nothing beside the tree, nothing in /tmp.
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 || entries[0].Name() != "tree" {
				t.Errorf("written beside the tree: %v", entries)
			}
			if _, err := os.Lstat("/tmp/lkmtest-evil"); err == nil {
				t.Errorf("/tmp/lkmtest-evil was written")
			}
		})
	}

	// A well-formed tree with an inside symlink and a hard link unpacks.
	dst := filepath.Join(t.TempDir(), "tree")
	good := []member{top, mk, {name: "linux-6.1/arch/", typ: tar.TypeDir}, {name: "linux-6.1/arch/a.h", typ: tar.TypeReg, body: "a"},
		{name: "linux-6.1/include/b.h", typ: tar.TypeSymlink, link: "../arch/a.h"}, {name: "linux-6.1/c.h", typ: tar.TypeLink, link: "linux-6.1/arch/a.h"}}
	if err := untar(bytes.NewReader(tarball(t, good)), dst); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Makefile", "include/b.h", "c.h"} {
		if b, err := os.ReadFile(filepath.Join(dst, p)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}
