package registry

import (
	"archive/tar"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// The artifact's media types.
const (
	// ArtifactType is the manifest's artifactType.
	ArtifactType = "application/vnd.lkmtest.kernel.v1"
	// ConfigMediaType is the config blob's: the entry's metadata.json.
	ConfigMediaType = "application/vnd.lkmtest.kernel.metadata.v1+json"
	// LayerMediaType is every layer's: a zstd-compressed tar.
	LayerMediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
)

// The annotations of the manifest (the metadata's key, arch and kernel
// version) and of each layer (its name).
const (
	annoKey     = "com.github.lkmtest.kernel.key"
	annoArch    = "com.github.lkmtest.kernel.arch"
	annoVersion = "com.github.lkmtest.kernel.version"
	annoLayer   = "com.github.lkmtest.layer"
	annoTitle   = "org.opencontainers.image.title"
	annoCreated = "org.opencontainers.image.created"
)

// The layers, in the manifest's order.
const (
	layerImage  = "image"
	layerBuild  = "build"
	layerSource = "source"
	layerDebug  = "debug"
)

// layerNames are the layers an artifact may have; all but debug must be
// there.
var layerNames = []string{layerImage, layerBuild, layerSource, layerDebug}

// meta is what this package reads of a kernel's metadata.json (the
// fields of kbuild.Metadata it checks).
type meta struct {
	Key           string    `json:"key"`
	Arch          arch.Arch `json:"arch"`
	KernelVersion string    `json:"kernel_version"`
	OptionsY      int       `json:"options_y"`
	Created       time.Time `json:"created"`
	// Prepared marks a compile-only prepared tree (no boot image).
	Prepared bool `json:"prepared"`
}

func (m meta) String() string {
	return fmt.Sprintf("linux %s %s (key %s)", m.KernelVersion, m.Arch, m.Key)
}

// parseMeta reads and checks a metadata.json.
func parseMeta(b []byte) (meta, error) {
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("metadata.json: %w", err)
	}
	if m.Key == "" || m.KernelVersion == "" {
		return m, fmt.Errorf("metadata.json: no key or kernel_version")
	}
	if _, err := arch.Parse(string(m.Arch)); err != nil {
		return m, fmt.Errorf("metadata.json: %w", err)
	}
	return m, nil
}

// annotations are the manifest's annotations for m.
func (m meta) annotations() map[string]string {
	a := map[string]string{
		annoKey: m.Key, annoArch: string(m.Arch), annoVersion: m.KernelVersion,
		annoTitle: fmt.Sprintf("lkmtest kernel %s %s", m.KernelVersion, m.Arch),
	}
	if !m.Created.IsZero() {
		a[annoCreated] = m.Created.UTC().Format(time.RFC3339)
	}
	return a
}

// member is one file, directory or symbolic link of a layer.
type member struct {
	// name is its path in the entry ("build/.config", "source/Makefile").
	name string
	// disk is where it is read from.
	disk string
}

// entry is a published kernel cache entry to pack.
type entry struct {
	dir      string // the entry: KEY/
	meta     meta
	metaJSON []byte
	build    string // dir/build
	source   string // what build/source links to, resolved
	srcArch  string // the kernel's SRCARCH: x86, arm64 (build/arch/*)
}

// openEntry reads the published cache entry dir for packing.
func openEntry(dir string) (*entry, error) {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		return nil, fmt.Errorf("%s is not a published kernel cache entry (no .complete): build the kernel first (lkmtest kernel build)", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		return nil, fmt.Errorf("kernel cache entry %s: %w", dir, err)
	}
	m, err := parseMeta(b)
	if err != nil {
		return nil, fmt.Errorf("kernel cache entry %s: %w", dir, err)
	}
	if m.Prepared {
		return nil, fmt.Errorf("kernel cache entry %s is a prepared tree (compile-only, no boot image): only built kernels are shared", dir)
	}
	if filepath.Base(dir) != m.Key {
		return nil, fmt.Errorf("kernel cache entry %s: its metadata names key %s", dir, m.Key)
	}
	e := &entry{dir: dir, meta: m, metaJSON: b, build: filepath.Join(dir, "build")}
	if e.source, err = filepath.EvalSymlinks(filepath.Join(e.build, "source")); err != nil {
		return nil, fmt.Errorf("kernel cache entry %s: its source tree is gone (%v): unpack it again with lkmtest kernel src, or build the kernel again", dir, err)
	}
	// SRCARCH is the arch directory with generated headers (x86_64's
	// holds only a link to x86's boot image).
	arches, _ := filepath.Glob(filepath.Join(e.build, "arch", "*", "include"))
	if len(arches) != 1 {
		return nil, fmt.Errorf("kernel cache entry %s: %d build/arch/*/include directories, want one: not a built kernel", dir, len(arches))
	}
	e.srcArch = filepath.Base(filepath.Dir(arches[0]))
	return e, nil
}

// layers lists the members of each layer (see the package doc), sorted;
// each file's directories come before it.
func (e *entry) layers() (map[string][]member, error) {
	out := map[string][]member{}
	image := m(e.build, "build", e.meta.Arch.Spec().Image)
	if _, err := os.Stat(image.disk); err != nil {
		return nil, fmt.Errorf("kernel cache entry %s: no boot image: %w", e.dir, err)
	}
	out[layerImage] = []member{image}

	var build []member
	for _, f := range []string{".config", "Module.symvers"} {
		mb := m(e.build, "build", f)
		if _, err := os.Stat(mb.disk); err != nil {
			return nil, fmt.Errorf("kernel cache entry %s: %w", e.dir, err)
		}
		build = append(build, mb)
	}
	buildRecord := func(p string, d fs.DirEntry) bool {
		// Objects and kbuild's command records are the object tree's:
		// an external module build runs the tools, never rebuilds them.
		n := d.Name()
		return strings.HasSuffix(n, ".o") || strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".cmd") || strings.HasSuffix(n, ".d"))
	}
	for _, d := range []string{"include", filepath.Join("arch", e.srcArch, "include"), "scripts"} {
		ms, err := walk(e.build, "build", d, buildRecord)
		if err != nil {
			return nil, err
		}
		build = append(build, ms...)
	}
	if objtool := m(e.build, "build", "tools/objtool/objtool"); exists(objtool.disk) {
		build = append(build, objtool)
	}
	out[layerBuild] = build

	var src []member
	src = append(src, m(e.source, "source", "Makefile"))
	archDir := filepath.Join("arch", e.srcArch)
	makefiles, _ := filepath.Glob(filepath.Join(e.source, archDir, "Makefile*"))
	for _, f := range makefiles {
		src = append(src, m(e.source, "source", filepath.Join(archDir, filepath.Base(f))))
	}
	for _, d := range []string{"include", "scripts"} {
		ms, err := walk(e.source, "source", d, nil)
		if err != nil {
			return nil, err
		}
		src = append(src, ms...)
	}
	// arch/SRCARCH: its include and scripts directories wherever they are
	// (arch/arm64/include, arch/arm64/kvm/hyp/include), and the platform
	// lists some arch Makefiles read.
	err := filepath.WalkDir(filepath.Join(e.source, archDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.source, p)
		switch {
		case d.IsDir() && (d.Name() == "include" || d.Name() == "scripts"):
			ms, err := walk(e.source, "source", rel, nil)
			src = append(src, ms...)
			if err != nil {
				return err
			}
			return filepath.SkipDir
		case d.Type().IsRegular() && (d.Name() == "Kbuild.platforms" || d.Name() == "Platform"):
			src = append(src, m(e.source, "source", rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kernel source %s: %w", e.source, err)
	}
	out[layerSource] = src

	if vmlinux := m(e.build, "build", "vmlinux"); hasDebugInfo(vmlinux.disk) {
		out[layerDebug] = []member{vmlinux}
	}
	for l, ms := range out {
		out[l] = withParents(ms)
	}
	return out, nil
}

// m is the member rel of the tree root, named prefix/rel.
func m(root, prefix, rel string) member {
	return member{name: path.Join(prefix, filepath.ToSlash(rel)), disk: filepath.Join(root, rel)}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// walk lists the files and symbolic links under root/dir (none when dir
// does not exist), leaving out those skip says.
func walk(root, prefix, dir string, skip func(string, fs.DirEntry) bool) ([]member, error) {
	var out []member
	top := filepath.Join(root, dir)
	if !exists(top) {
		return nil, nil
	}
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || skip != nil && skip(p, d) {
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil // sockets, fifos: nothing a build reads
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, m(root, prefix, rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", top, err)
	}
	return out, nil
}

// withParents sorts ms and adds each member's directories before it
// (their modes and times are kept too).
func withParents(ms []member) []member {
	seen := map[string]bool{}
	var out []member
	for _, mb := range ms {
		if seen[mb.name] {
			continue
		}
		seen[mb.name] = true
		out = append(out, mb)
		name, disk := mb.name, mb.disk
		for {
			parent := path.Dir(name)
			disk = filepath.Dir(disk)
			if parent == "." || seen[parent+"/"] {
				break
			}
			seen[parent+"/"] = true
			out = append(out, member{name: parent + "/", disk: disk})
			name = parent
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// hasDebugInfo says whether the ELF file p has DWARF.
func hasDebugInfo(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".debug_info") != nil
}

// packed is a layer written to a file: a zstd-compressed tar.
type packed struct {
	name   string
	path   string
	digest string // sha256:HEX of the compressed file
	size   int64
	// files counts its members; raw is the tar's size.
	files int
	raw   int64
}

// pack writes the layer name of ms into dir/name.tar.zst.
func pack(dir, name string, ms []member) (*packed, error) {
	p := &packed{name: name, path: filepath.Join(dir, name+".tar.zst"), files: len(ms)}
	f, err := os.OpenFile(p.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(runtime.NumCPU()))
	if err != nil {
		return nil, err
	}
	raw := &countWriter{w: zw}
	tw := tar.NewWriter(raw)
	for _, mb := range ms {
		if err := addMember(tw, mb); err != nil {
			zw.Close()
			return nil, fmt.Errorf("layer %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	p.digest, p.size, p.raw = "sha256:"+hex.EncodeToString(h.Sum(nil)), cw.n, raw.n
	return p, nil
}

// addMember writes one member: its mode bits and modification time,
// owned by no one (uid/gid 0, no names), so that one tree always packs to
// the same bytes.
func addMember(tw *tar.Writer, mb member) error {
	st, err := os.Lstat(mb.disk)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: mb.name, Mode: int64(st.Mode().Perm()), ModTime: st.ModTime()}
	switch {
	case strings.HasSuffix(mb.name, "/"):
		if !st.IsDir() {
			return fmt.Errorf("%s: not a directory", mb.disk)
		}
		hdr.Typeflag = tar.TypeDir
		return tw.WriteHeader(hdr)
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(mb.disk)
		if err != nil {
			return err
		}
		// A link's own time is not kept where it is unpacked (nothing
		// reads it): the epoch, so that a pulled entry packs as it came.
		hdr.Typeflag, hdr.Linkname, hdr.ModTime = tar.TypeSymlink, target, time.Unix(0, 0)
		return tw.WriteHeader(hdr)
	case st.Mode().IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(mb.disk)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, f)
		if err == nil && n != st.Size() {
			err = fmt.Errorf("%s changed while it was packed", mb.disk)
		}
		return err
	}
	return fmt.Errorf("%s: not a file, directory or symbolic link", mb.disk)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errNotKernel marks an artifact that is not an lkmtest kernel.
var errNotKernel = errors.New("not an lkmtest kernel artifact")
