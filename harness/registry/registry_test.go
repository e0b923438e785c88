package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/klauspost/compress/zstd"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/registry/registrytest"
)

// A fake kernel cache entry: the files a built kernel's entry has (the
// object tree's too, which must stay out of the artifact), small.

const fakeKey = "0123456789abcdef01234567"

// writeFiles writes files (path: content; a content "-> T" is a link to T)
// under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if strings.Contains(p, "fixdep") || strings.Contains(p, "modpost") || strings.HasSuffix(p, "objtool") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

var fakeSource = map[string]string{
	"Makefile":                          "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\n",
	"Kconfig":                           "source \"arch/Kconfig\"\n",
	"kernel/fork.c":                     "/* the kernel's own code */\n",
	"include/linux/module.h":            "#define MODULE 1\n",
	"include/uapi/linux/types.h":        "/* uapi */\n",
	"scripts/Makefile.build":            "# kbuild\n",
	"scripts/Kbuild.include":            "# kbuild\n",
	"scripts/dtc/include-prefixes/x86":  "-> ../../../arch/x86/boot/dts",
	"arch/x86/Makefile":                 "# arch\n",
	"arch/x86/Makefile_32.cpu":          "# arch\n",
	"arch/x86/Kconfig":                  "# arch Kconfig\n",
	"arch/x86/include/asm/page.h":       "#define PAGE_SHIFT 12\n",
	"arch/x86/kernel/head_64.S":         "/* code */\n",
	"arch/x86/um/include/asm/x.h":       "/* a nested include dir */\n",
	"arch/x86/tools/Platform":           "# platforms\n",
	"arch/arm64/include/asm/page.h":     "/* another arch */\n",
	"drivers/net/dummy.c":               "/* code */\n",
	"Documentation/process/howto.rst":   "text\n",
	"tools/objtool/check.c":             "/* code */\n",
	"arch/x86/entry/syscalls/Makefile":  "# not a top arch Makefile\n",
	"include/dt-bindings/input/input.h": "#define KEY 1\n",
}

// fakeConfig has 3 options =y.
const fakeConfig = "CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_PRINTK=y\n# CONFIG_SMP is not set\n"

func fakeBuild(image string) map[string]string {
	return map[string]string{
		".config":                   fakeConfig,
		"Module.symvers":            "0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n",
		"Makefile":                  "include /elsewhere/Makefile\n",
		"System.map":                "ffffffff81000000 T _text\n",
		"vmlinux":                   "not an ELF file\n",
		"vmlinux.o":                 "object\n",
		"built-in.a":                "archive\n",
		".vmlinux.cmd":              "cmd\n",
		"kernel/fork.o":             "object\n",
		"kernel/.fork.o.cmd":        "cmd\n",
		image:                       "boot image\n",
		"arch/x86/kernel/head_64.o": "object\n",
		"arch/x86/include/generated/asm/rwonce.h":   "#include <asm-generic/rwonce.h>\n",
		"arch/x86_64/boot/bzImage":                  "-> ../../x86/boot/bzImage",
		"include/generated/autoconf.h":              "#define CONFIG_MODULES 1\n",
		"include/config/auto.conf":                  "CONFIG_MODULES=y\n",
		"include/config/kernel.release":             "6.1.192\n",
		"scripts/basic/fixdep":                      "ELF fixdep\n",
		"scripts/basic/fixdep.o":                    "object\n",
		"scripts/basic/.fixdep.cmd":                 "cmd\n",
		"scripts/mod/modpost":                       "ELF modpost\n",
		"scripts/mod/.modpost.o.d":                  "deps\n",
		"scripts/module.lds":                        "SECTIONS {}\n",
		"tools/objtool/objtool":                     "ELF objtool\n",
		"tools/objtool/check.o":                     "object\n",
		"tools/objtool/libsubcmd/exec-cmd.o":        "object\n",
		"drivers/net/dummy.o":                       "object\n",
		"usr/initramfs_data.cpio":                   "cpio\n",
		"certs/signing_key.pem":                     "a key the object tree may hold\n",
		"arch/x86/boot/compressed/vmlinux.bin":      "object\n",
		"arch/x86/boot/compressed/.vmlinux.bin.cmd": "cmd\n",
	}
}

// fakeEntry writes a published x86_64 kernel entry under c (its source
// tree in c's src/) with metadata m (key, arch, version, options_y filled
// in when empty) and returns its directory.
func fakeEntry(t *testing.T, c *cache.Dir, key string, a arch.Arch) string {
	t.Helper()
	src := filepath.Join(c.Root, "src", "fake", "tree")
	if _, err := os.Stat(src); err != nil {
		writeFiles(t, src, fakeSource)
	}
	dir := c.Path("kernels", key)
	writeFiles(t, filepath.Join(dir, "build"), fakeBuild(a.Spec().Image))
	if err := os.Symlink(src, filepath.Join(dir, "build", "source")); err != nil {
		t.Fatal(err)
	}
	m := kbuild.Metadata{Key: key, Arch: a, KernelVersion: "6.1.192", SourceIdentity: "debian:fake", Compiler: "gcc 12",
		OptionsY: 3, Created: time.Date(2026, 12, 1, 21, 41, 23, 0, time.UTC), Commands: []string{"make ..."}}
	b, _ := json.MarshalIndent(m, "", "  ")
	writeFiles(t, dir, map[string]string{"metadata.json": string(b) + "\n", "build.log": "log\n", "requested.config": "x\n", ".complete": "now\n"})
	return dir
}

func newCache(t *testing.T) *cache.Dir {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func names(ms []member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.name)
	}
	return out
}

// The layers hold exactly the boot image and what module builds need.
func TestLayers(t *testing.T) {
	c := newCache(t)
	e, err := openEntry(fakeEntry(t, c, fakeKey, arch.X86_64))
	if err != nil {
		t.Fatal(err)
	}
	if e.srcArch != "x86" {
		t.Errorf("SRCARCH %q, want x86", e.srcArch)
	}
	ls, err := e.layers()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		layerImage: {"build/", "build/arch/", "build/arch/x86/", "build/arch/x86/boot/", "build/arch/x86/boot/bzImage"},
		layerBuild: {"build/", "build/.config", "build/Module.symvers", "build/arch/", "build/arch/x86/", "build/arch/x86/include/",
			"build/arch/x86/include/generated/", "build/arch/x86/include/generated/asm/", "build/arch/x86/include/generated/asm/rwonce.h",
			"build/include/", "build/include/config/", "build/include/config/auto.conf", "build/include/config/kernel.release",
			"build/include/generated/", "build/include/generated/autoconf.h",
			"build/scripts/", "build/scripts/basic/", "build/scripts/basic/fixdep", "build/scripts/mod/", "build/scripts/mod/modpost",
			"build/scripts/module.lds", "build/tools/", "build/tools/objtool/", "build/tools/objtool/objtool"},
		layerSource: {"source/", "source/Makefile", "source/arch/", "source/arch/x86/", "source/arch/x86/Makefile", "source/arch/x86/Makefile_32.cpu",
			"source/arch/x86/include/", "source/arch/x86/include/asm/", "source/arch/x86/include/asm/page.h",
			"source/arch/x86/tools/", "source/arch/x86/tools/Platform",
			"source/arch/x86/um/", "source/arch/x86/um/include/", "source/arch/x86/um/include/asm/", "source/arch/x86/um/include/asm/x.h",
			"source/include/", "source/include/dt-bindings/", "source/include/dt-bindings/input/", "source/include/dt-bindings/input/input.h",
			"source/include/linux/", "source/include/linux/module.h", "source/include/uapi/", "source/include/uapi/linux/", "source/include/uapi/linux/types.h",
			"source/scripts/", "source/scripts/Kbuild.include", "source/scripts/Makefile.build",
			"source/scripts/dtc/", "source/scripts/dtc/include-prefixes/", "source/scripts/dtc/include-prefixes/x86"},
	}
	for _, l := range layerNames {
		got := names(ls[l])
		if strings.Join(got, "\n") != strings.Join(want[l], "\n") {
			t.Errorf("layer %s:\n%s\nwant:\n%s", l, strings.Join(got, "\n"), strings.Join(want[l], "\n"))
		}
	}
}

// A pushed entry pulled into another cache is the same kernel: the
// artifact's files, its metadata byte for byte, build/source linking to
// the pulled source, the Makefile stub including it; and packing is
// reproducible.
func TestPushPull(t *testing.T) {
	srv := registrytest.New(t)
	reg, err := New(srv.Repo("kernels"), Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	dir := fakeEntry(t, c, fakeKey, arch.X86_64)
	ctx := context.Background()
	p, err := reg.Push(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ref != srv.Repo("kernels")+":"+fakeKey || len(p.Layers) != 3 || p.Size <= 0 {
		t.Errorf("pushed %+v", p)
	}
	// The manifest: the artifact type, metadata.json as the config,
	// annotations from it.
	var man struct {
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
			Size      int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			MediaType   string            `json:"mediaType"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(srv.Manifest(t, "kernels", fakeKey), &man); err != nil {
		t.Fatal(err)
	}
	metaJSON, _ := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if man.ArtifactType != ArtifactType || man.Config.MediaType != ConfigMediaType || man.Config.Size != int64(len(metaJSON)) ||
		man.Annotations[annoKey] != fakeKey || man.Annotations[annoArch] != "x86_64" || man.Annotations[annoVersion] != "6.1.192" ||
		man.Annotations[annoCreated] != "2026-12-01T21:41:23Z" {
		t.Errorf("manifest %+v", man)
	}
	for i, l := range man.Layers {
		if l.MediaType != LayerMediaType || l.Annotations[annoLayer] != layerNames[i] {
			t.Errorf("layer %d: %+v", i, l)
		}
	}

	c2 := newCache(t)
	got, pulled, err := reg.Pull(ctx, c2, fakeKey, arch.X86_64, "6.1.192")
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Exists("kernels", fakeKey) || pulled.Digest != p.Digest {
		t.Fatalf("pulled %+v into %s, pushed %+v", pulled, got, p)
	}
	if b, _ := os.ReadFile(filepath.Join(got, "metadata.json")); !bytes.Equal(b, metaJSON) {
		t.Errorf("metadata.json differs after the round trip:\n%s", b)
	}
	if l, err := os.Readlink(filepath.Join(got, "build", "source")); err != nil || l != "../source" {
		t.Errorf("build/source -> %q (%v), want ../source", l, err)
	}
	stub, _ := os.ReadFile(filepath.Join(got, "build", "Makefile"))
	if !strings.HasSuffix(string(stub), "\ninclude source/Makefile\n") {
		t.Errorf("build/Makefile:\n%s", stub)
	}
	for _, f := range []string{"build/arch/x86/boot/bzImage", "build/scripts/mod/modpost", "source/include/linux/module.h",
		"source/arch/x86/include/asm/page.h", "build/source/scripts/Makefile.build", "pulled.json"} {
		if _, err := os.Stat(filepath.Join(got, f)); err != nil {
			t.Errorf("pulled entry: %v", err)
		}
	}
	for _, f := range []string{"build/kernel/fork.o", "build/vmlinux", "build/System.map", "build.log", "source/kernel/fork.c",
		"build/certs/signing_key.pem", "build/scripts/basic/fixdep.o", "build/scripts/basic/.fixdep.cmd"} {
		if _, err := os.Lstat(filepath.Join(got, f)); err == nil {
			t.Errorf("pulled entry has %s: the object tree is not shared", f)
		}
	}
	if st, err := os.Stat(filepath.Join(got, "build/scripts/basic/fixdep")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("fixdep: %v %v, want mode 0755", st.Mode(), err)
	}
	if l, err := os.Readlink(filepath.Join(got, "source/scripts/dtc/include-prefixes/x86")); err != nil || l != "../../../arch/x86/boot/dts" {
		t.Errorf("relative link in the source: %q %v", l, err)
	}
	// Same entry, same bytes.
	again, err := reg.Push(ctx, dir)
	if err != nil || again.Digest != p.Digest {
		t.Errorf("pushed again: %v %v, digest %s then %s", again, err, p.Digest, again.Digest)
	}
	// A pulled entry pushes as it was pulled.
	if re, err := reg.Push(ctx, got); err != nil || re.Digest != p.Digest {
		t.Errorf("the pulled entry pushed: %v %v, want digest %s", re, err, p.Digest)
	}
}

// Share pushes only what the registry lacks.
func TestShare(t *testing.T) {
	srv := registrytest.New(t)
	reg, _ := New(srv.Repo("kernels"), Credentials{})
	dir := fakeEntry(t, newCache(t), fakeKey, arch.X86_64)
	what, err := reg.Share(context.Background(), dir)
	if err != nil || !strings.Contains(what, fakeKey) {
		t.Fatalf("first share: %q %v", what, err)
	}
	gets := srv.BlobGets()
	what, err = reg.Share(context.Background(), dir)
	if err != nil || what != "" {
		t.Errorf("second share: %q %v, want nothing pushed", what, err)
	}
	if srv.BlobGets() != gets {
		t.Errorf("the second share read blobs")
	}
}

// noEntry asserts that a refused pull left nothing in c.
func noEntry(t *testing.T, c *cache.Dir, key string) {
	t.Helper()
	if c.Exists("kernels", key) {
		t.Errorf("a refused pull published %s", key)
	}
	if left, _ := filepath.Glob(filepath.Join(c.Root, "kernels", "*.tmp-*")); len(left) > 0 {
		t.Errorf("a refused pull left %v", left)
	}
	if _, err := os.Stat(c.Path("kernels", key)); err == nil {
		t.Errorf("a refused pull left %s", c.Path("kernels", key))
	}
}

// A blob that does not match its digest is refused, whichever it is.
func TestPullRefusesCorruptBlob(t *testing.T) {
	srv := registrytest.New(t)
	reg, _ := New(srv.Repo("kernels"), Credentials{})
	dir := fakeEntry(t, newCache(t), fakeKey, arch.X86_64)
	if _, err := reg.Push(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	var man struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(srv.Manifest(t, "kernels", fakeKey), &man); err != nil {
		t.Fatal(err)
	}
	blobs := []string{man.Config.Digest}
	for _, l := range man.Layers {
		blobs = append(blobs, l.Digest)
	}
	for i, d := range blobs {
		srv.Corrupt(d, true)
		c := newCache(t)
		_, _, err := reg.Pull(context.Background(), c, fakeKey, arch.X86_64, "6.1.192")
		if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "digest") {
			t.Errorf("blob %d (%s) corrupted: %v, want it refused for its digest", i, d, err)
		}
		noEntry(t, c, fakeKey)
		srv.Corrupt(d, false)
	}
}

// The kernel is identified by the artifact's metadata, never by its tag.
func TestPullRefusesAnotherKernel(t *testing.T) {
	srv := registrytest.New(t)
	reg, _ := New(srv.Repo("kernels"), Credentials{})
	c := newCache(t)
	if _, err := reg.Push(context.Background(), fakeEntry(t, c, fakeKey, arch.X86_64)); err != nil {
		t.Fatal(err)
	}
	other := "fedcba9876543210fedcba98"
	srv.Retag(t, "kernels", fakeKey, other)
	for _, tc := range []struct {
		key     string
		a       arch.Arch
		version string
		want    string
	}{
		{other, arch.X86_64, "6.1.192", "(key " + fakeKey + "), not linux 6.1.192 x86_64 (key " + other},
		{fakeKey, arch.ARM64, "6.1.192", "linux 6.1.192 x86_64 (key " + fakeKey + "), not linux 6.1.192 arm64"},
		{fakeKey, arch.X86_64, "6.12.117", "not linux 6.12.117 x86_64"},
	} {
		c2 := newCache(t)
		_, _, err := reg.Pull(context.Background(), c2, tc.key, tc.a, tc.version)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "the tag names another kernel") {
			t.Errorf("pull %s %s %s: %v, want it refused: %s", tc.key, tc.a, tc.version, err, tc.want)
		}
		noEntry(t, c2, tc.key)
	}
}

// pushImage pushes an artifact made by hand: its metadata m, its config
// (m's JSON when nil) and layers of the given tars.
func pushImage(t *testing.T, reg *Registry, m meta, config []byte, tars map[string][]byte) {
	t.Helper()
	if config == nil {
		config, _ = json.Marshal(m)
	}
	img := &Image{meta: m, config: config}
	work := t.TempDir()
	for name, data := range tars {
		path := filepath.Join(work, name+".tar.zst")
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		img.layers = append(img.layers, &packed{name: name, path: path, digest: sha256Hex(buf.Bytes()), size: int64(buf.Len())})
	}
	img.sortLayers()
	if err := reg.write(context.Background(), img); err != nil {
		t.Fatal(err)
	}
}

type tarEntry struct {
	name, link string
	typ        byte
	body       string
}

func mkTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// goodLayers are the smallest layers a pull accepts (for 3 options =y).
func goodLayers(t *testing.T) map[string][]byte {
	f := func(n, body string) tarEntry { return tarEntry{name: n, typ: tar.TypeReg, body: body} }
	return map[string][]byte{
		layerImage: mkTar(t, f("build/arch/x86/boot/bzImage", "boot")),
		layerBuild: mkTar(t, f("build/.config", fakeConfig), f("build/Module.symvers", ""), f("build/include/generated/autoconf.h", ""),
			f("build/include/config/auto.conf", ""), f("build/scripts/basic/fixdep", ""), f("build/scripts/mod/modpost", "")),
		layerSource: mkTar(t, f("source/Makefile", ""), f("source/scripts/Makefile.build", "")),
	}
}

// An artifact is refused for what it is, not only for its digests: its
// metadata against its annotations and its .config, its layers' names,
// and every tar member that could write outside the entry.
func TestPullRefusesBadContent(t *testing.T) {
	m := meta{Key: fakeKey, Arch: arch.X86_64, KernelVersion: "6.1.192", OptionsY: 3}
	reg, _ := New(registrytest.New(t).Repo("kernels"), Credentials{})
	// The good one first: the cases below each change one thing.
	pushImage(t, reg, m, nil, goodLayers(t))
	if _, _, err := reg.Pull(context.Background(), newCache(t), fakeKey, arch.X86_64, "6.1.192"); err != nil {
		t.Fatalf("the smallest good artifact: %v", err)
	}
	f := func(n, body string) tarEntry { return tarEntry{name: n, typ: tar.TypeReg, body: body} }
	build := func(extra ...tarEntry) []byte {
		es := []tarEntry{f("build/.config", fakeConfig), f("build/Module.symvers", ""), f("build/include/generated/autoconf.h", ""),
			f("build/include/config/auto.conf", ""), f("build/scripts/basic/fixdep", ""), f("build/scripts/mod/modpost", "")}
		return mkTar(t, append(es, extra...)...)
	}
	armMeta := m
	armMeta.Arch = arch.ARM64
	armConfig, _ := json.Marshal(armMeta)
	x86Config, _ := json.Marshal(m)
	y4 := m
	y4.OptionsY = 4
	for _, tc := range []struct {
		name   string
		meta   meta
		config []byte
		layer  string
		tar    []byte
		want   string
	}{
		{"metadata of another arch", m, armConfig, "", nil, "its metadata is linux 6.1.192 arm64 (key " + fakeKey + "), not linux 6.1.192 x86_64"},
		{"annotations disagree with the metadata", armMeta, x86Config, "", nil, `its annotation com.github.lkmtest.kernel.arch is "arm64", its metadata says "x86_64"`},
		{"options_y", y4, nil, "", nil, "has 3 options =y, its metadata says 4"},
		{"escaping name", m, nil, layerBuild, build(f("build/../../escape", "x")), "not a clean relative path"},
		{"absolute name", m, nil, layerBuild, build(f("/etc/passwd", "x")), "not a clean relative path"},
		{"wrong prefix", m, nil, layerSource, mkTar(t, f("source/Makefile", ""), f("source/scripts/Makefile.build", ""), f("build/.config", "")), "outside source/"},
		{"absolute link", m, nil, layerBuild, build(tarEntry{name: "build/evil", typ: tar.TypeSymlink, link: "/etc"}), "only relative links"},
		{"escaping link", m, nil, layerBuild, build(tarEntry{name: "build/evil", typ: tar.TypeSymlink, link: "../../.."}), "points out of the kernel entry"},
		{"file under a link", m, nil, layerBuild, build(tarEntry{name: "build/ln", typ: tar.TypeSymlink, link: "include"}, f("build/ln/x", "x")), "under the link build/ln"},
		{"hard link", m, nil, layerBuild, build(tarEntry{name: "build/hard", typ: tar.TypeLink, link: "build/.config"}), "only files, directories and relative links"},
		{"device", m, nil, layerBuild, build(tarEntry{name: "build/dev", typ: tar.TypeChar}), "only files, directories and relative links"},
		{"twice", m, nil, layerBuild, build(f("build/.config", fakeConfig)), "given twice"},
		{"missing modpost", m, nil, layerBuild, mkTar(t, f("build/.config", fakeConfig), f("build/Module.symvers", ""), f("build/include/generated/autoconf.h", ""),
			f("build/include/config/auto.conf", ""), f("build/scripts/basic/fixdep", "")), "lacks a file a module build or boot needs: build/scripts/mod/modpost"},
		{"no source layer", m, nil, layerSource, nil, "no source layer"},
		{"unknown layer", m, nil, "extra", mkTar(t), "not one of lkmtest's layers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := New(registrytest.New(t).Repo("kernels"), Credentials{})
			ls := goodLayers(t)
			if tc.layer != "" {
				ls[tc.layer] = tc.tar
				if tc.tar == nil {
					delete(ls, tc.layer)
				}
			}
			pushImage(t, reg, tc.meta, tc.config, ls)
			c := newCache(t)
			_, _, err := reg.Pull(context.Background(), c, fakeKey, arch.X86_64, "6.1.192")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("pull: %v, want it refused: %s", err, tc.want)
			}
			noEntry(t, c, fakeKey)
			if _, err := os.Lstat(filepath.Join(filepath.Dir(c.Root), "escape")); err == nil {
				t.Errorf("a member was written outside the entry")
			}
		})
	}
}

// An unreachable registry is one error, once: later lookups return at
// once and say nothing; a refusing one names the fix.
func TestUnreachableAndRefused(t *testing.T) {
	reg, err := New("127.0.0.1:1/kernels", Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	what, err := reg.Fetch(context.Background(), tmp, fakeKey, arch.X86_64, "6.1.192")
	if err == nil || what != "" || !strings.Contains(err.Error(), "kernel registry 127.0.0.1:1/kernels unreachable") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable: %q %v", what, err)
	}
	t0 := time.Now()
	what, err = reg.Fetch(context.Background(), tmp, fakeKey, arch.X86_64, "6.1.192")
	if what != "" || err != nil || time.Since(t0) > 100*time.Millisecond {
		t.Errorf("the second fetch: %q %v after %s, want nothing at once", what, err, time.Since(t0))
	}
	if what, err := reg.Share(context.Background(), fakeEntry(t, newCache(t), fakeKey, arch.X86_64)); what != "" || err != nil {
		t.Errorf("share after unreachable: %q %v", what, err)
	}

	for _, status := range []int{401, 403} {
		reg, _ := New(registrytest.Refusing(t, status)+"/kernels", Credentials{})
		_, err := reg.Fetch(context.Background(), tmp, fakeKey, arch.X86_64, "6.1.192")
		if err == nil || !strings.Contains(err.Error(), "refused access (pull") || !strings.Contains(err.Error(), "docker login") {
			t.Errorf("HTTP %d: %v, want refused, naming docker login", status, err)
		}
		// A refused read is not a refused push (ghcr.io refuses to read
		// a package it does not have): the push is tried, and refused.
		if reg.isDown() || reg.pushIsRefused() {
			t.Errorf("HTTP %d on a read: down %v, push refused %v", status, reg.isDown(), reg.pushIsRefused())
		}
		what, err := reg.Share(context.Background(), fakeEntry(t, newCache(t), fakeKey, arch.X86_64))
		if what != "" || err == nil || !strings.Contains(err.Error(), "refused access (push") || !reg.pushIsRefused() {
			t.Errorf("HTTP %d: share %q %v", status, what, err)
		}
		if what, err := reg.Share(context.Background(), fakeEntry(t, newCache(t), fakeKey, arch.X86_64)); what != "" || err != nil {
			t.Errorf("HTTP %d: share after a refused push: %q %v, want nothing", status, what, err)
		}
	}
	reg, _ = New(registrytest.Refusing(t, 503)+"/kernels", Credentials{})
	if _, err := reg.Fetch(context.Background(), tmp, fakeKey, arch.X86_64, "6.1.192"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("HTTP 503: %v", err)
	}
	// A registry without the kernel: no error kind is remembered.
	srv := registrytest.New(t)
	reg, _ = New(srv.Repo("kernels"), Credentials{})
	_, err = reg.Fetch(context.Background(), tmp, fakeKey, arch.X86_64, "6.1.192")
	if err == nil || !strings.Contains(err.Error(), "has no such kernel") || reg.isDown() {
		t.Errorf("missing: %v (down %v)", err, reg.isDown())
	}
}

func TestParseRepo(t *testing.T) {
	for _, tc := range []struct {
		repo, err string
	}{
		{"ghcr.io/owner/lkmtest-kernels", ""},
		{"localhost:5000/kernels", ""},
		{"localhost/kernels", ""},
		{"127.0.0.1:5000/a/b", ""},
		{"docker.io/user/kernels", ""},
		{"", "empty"},
		{"kernels", "no registry host"},
		{"owner/kernels", "no registry host"},
		{"ghcr.io", "no registry host"},
		{"ghcr.io/", "no registry host"},
		{"ghcr.io/owner/kernels:latest", "tag or digest"},
		{"ghcr.io/owner/kernels@sha256:00", "tag or digest"},
		{"ghcr.io/Owner/Kernels", "repository can only contain"},
	} {
		_, err := parseRepo(tc.repo)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("parseRepo(%q) = %v", tc.repo, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "ghcr.io/OWNER/lkmtest-kernels")):
			t.Errorf("parseRepo(%q) = %v, want an error saying %q and how to name one", tc.repo, err, tc.err)
		}
	}
}

// meta reads kbuild's metadata.json fields by their names.
func TestMetaFieldsAreKbuilds(t *testing.T) {
	in := kbuild.Metadata{Key: fakeKey, Arch: arch.ARM64, KernelVersion: "6.12.117", OptionsY: 490, Created: time.Unix(1e9, 0).UTC()}
	b, _ := json.Marshal(in)
	m, err := parseMeta(b)
	if err != nil || m.Key != in.Key || m.Arch != in.Arch || m.KernelVersion != in.KernelVersion || m.OptionsY != in.OptionsY || !m.Created.Equal(in.Created) {
		t.Errorf("parseMeta(%s) = %+v, %v", b, m, err)
	}
}

func TestGitHubKeychain(t *testing.T) {
	for _, tc := range []struct {
		reg, token, actor, user string
	}{
		{"ghcr.io", "tok", "octocat", "octocat"},
		{"ghcr.io", "tok", "", "lkmtest"},
		{"ghcr.io", "", "octocat", ""},
		{"docker.io", "tok", "octocat", ""},
	} {
		r, _ := parseRepo(tc.reg + "/o/k")
		a, err := githubKeychain{token: tc.token, actor: tc.actor}.Resolve(r)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := a.Authorization()
		if cfg.Username != tc.user || (tc.user != "" && cfg.Password != tc.token) {
			t.Errorf("%s with token %q actor %q: %+v, want user %q", tc.reg, tc.token, tc.actor, cfg, tc.user)
		}
	}
}

// A refused ghcr.io names GITHUB_TOKEN.
func TestRefusedHint(t *testing.T) {
	r, _ := New("ghcr.io/o/k", Credentials{})
	err := r.explain("pull X from", &transport.Error{StatusCode: 401})
	if !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("%v", err)
	}
}

// An interrupted pull leaves only the entry's temporary directory, which
// the next lookup of the key removes before it pulls again.
func TestPullCancelled(t *testing.T) {
	srv := registrytest.New(t)
	reg, _ := New(srv.Repo("kernels"), Credentials{})
	if _, err := reg.Push(context.Background(), fakeEntry(t, newCache(t), fakeKey, arch.X86_64)); err != nil {
		t.Fatal(err)
	}
	srv.Throttle(2000)
	c := newCache(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := reg.Pull(ctx, c, fakeKey, arch.X86_64, "6.1.192"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("interrupted pull: %v", err)
	}
	noEntry(t, c, fakeKey)
	srv.Throttle(0)
	if _, _, err := reg.Pull(context.Background(), c, fakeKey, arch.X86_64, "6.1.192"); err != nil {
		t.Errorf("the next pull: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(c.Root, "kernels"))
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	if strings.Join(got, " ") != fakeKey+" "+fakeKey+".lock" {
		t.Errorf("kernels/ holds %v", got)
	}
}
