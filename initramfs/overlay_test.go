package initramfs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func readArchive(t *testing.T, b []byte) map[string]cpio.Record {
	t.Helper()
	rr := cpio.Newc.Reader(bytes.NewReader(b))
	out := map[string]cpio.Record{}
	for {
		r, err := rr.ReadRecord()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[r.Name] = r
	}
}

func TestOverlayContents(t *testing.T) {
	var buf bytes.Buffer
	o := Overlay{Init: []byte("AGENT"), Files: []File{{Path: "usr/share/x/data", Data: []byte("d"), Mode: 0o600}}}
	if err := o.Write(&buf); err != nil {
		t.Fatal(err)
	}
	recs := readArchive(t, buf.Bytes())
	init, ok := recs["init"]
	if !ok || init.Mode&0o777 != 0o755 {
		t.Fatalf("init record = %+v", init)
	}
	if b, _ := io.ReadAll(io.NewSectionReader(init.ReaderAt, 0, int64(init.FileSize))); string(b) != "AGENT" {
		t.Errorf("init content = %q", b)
	}
	for _, name := range []string{Marker, "dev/console", "usr", "usr/share", "usr/share/x", "usr/share/x/data", "lkmtest", HelperDir, "tmp"} {
		if _, ok := recs[name]; !ok {
			t.Errorf("missing %s", name)
		}
	}
	for _, h := range Helpers {
		r, ok := recs[HelperDir+"/"+h]
		if !ok || r.Mode&cpio.S_IFMT != cpio.S_IFLNK {
			t.Errorf("helper link %s = %+v", h, r)
		}
	}
	if c := recs["dev/console"]; c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("dev/console is %d,%d; want 5,1", c.Rmajor, c.Rminor)
	}
	if recs["tmp"].Mode&0o7777 != 0o1777 {
		t.Errorf("tmp mode = %o, want 1777", recs["tmp"].Mode&0o7777)
	}
}

func TestAssembleConcatenatesBase(t *testing.T) {
	dir := t.TempDir()
	var base bytes.Buffer
	if err := (Overlay{Init: []byte("OLD")}).Write(&base); err != nil {
		t.Fatal(err)
	}
	bp := filepath.Join(dir, "base.cpio")
	os.WriteFile(bp, base.Bytes(), 0o600)
	out := filepath.Join(dir, "initrd")
	if err := Assemble(out, bp, Overlay{Init: []byte("NEW")}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b, base.Bytes()) || len(b) <= base.Len() {
		t.Fatalf("assembled image does not start with the base (%d bytes vs %d)", len(b), base.Len())
	}
	if len(base.Bytes())%4 != 0 {
		t.Errorf("base length %d is not 4-byte aligned: the kernel would not find the second archive", base.Len())
	}
	second := readArchive(t, b[base.Len():])
	r := second["init"]
	if got, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize))); string(got) != "NEW" {
		t.Errorf("overlay init = %q, want NEW", got)
	}
	if err := Assemble(out, filepath.Join(dir, "missing"), Overlay{}); err == nil {
		t.Error("Assemble with a missing base succeeded")
	}
}
