package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kconfig"
)

// Credentials are the registry credentials lkmtest gets from its
// environment; the Docker config is read as well (authn.DefaultKeychain).
type Credentials struct {
	// GitHubToken and GitHubActor ($GITHUB_TOKEN, $GITHUB_ACTOR) log in
	// to ghcr.io.
	GitHubToken, GitHubActor string
}

// Registry is a repository of kernels ("ghcr.io/OWNER/lkmtest-kernels",
// "localhost:5000/kernels"), each tagged by its cache key. It is safe for
// concurrent use.
type Registry struct {
	repo name.Repository
	opts []remote.Option

	mu sync.Mutex
	// down is the first error that showed the registry unreachable, or
	// refusing the credentials (none of its operations can work then);
	// pushRefused the first refused push (pulls may still work).
	down, pushRefused error
}

// New returns the registry of repo, a repository name without tag or
// digest (the tags are the kernels' cache keys).
func New(repo string, cred Credentials) (*Registry, error) {
	r, err := parseRepo(repo)
	if err != nil {
		return nil, err
	}
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	// An unreachable registry must not hold a run for the kernel's
	// 30 s default: lkmtest builds locally instead.
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = time.Minute
	keychain := authn.NewMultiKeychain(githubKeychain{token: cred.GitHubToken, actor: cred.GitHubActor}, authn.DefaultKeychain)
	return &Registry{repo: r, opts: []remote.Option{
		remote.WithTransport(tr),
		remote.WithAuthFromKeychain(keychain),
		remote.WithUserAgent("lkmtest"),
		remote.WithJobs(4),
		remote.WithRetryBackoff(remote.Backoff{Duration: 300 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 2}),
	}}, nil
}

// parseRepo checks a repository name: a registry host, a path, no tag.
func parseRepo(repo string) (name.Repository, error) {
	usage := func(why string) error {
		return fmt.Errorf("kernel registry %q: %s: name a repository, REGISTRY/PATH (e.g. ghcr.io/OWNER/lkmtest-kernels or localhost:5000/kernels); the tags are the kernels' cache keys", repo, why)
	}
	host, path, ok := strings.Cut(repo, "/")
	switch {
	case repo == "":
		return name.Repository{}, usage("empty")
	case strings.Contains(repo, "@") || strings.Contains(path, ":"):
		return name.Repository{}, usage("it has a tag or digest")
	case !ok || path == "" || host != "localhost" && !strings.ContainsAny(host, ".:"):
		return name.Repository{}, usage("no registry host")
	}
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return name.Repository{}, usage(err.Error())
	}
	return r, nil
}

// String is the repository's name.
func (r *Registry) String() string { return r.repo.String() }

// tag is the reference of the kernel key.
func (r *Registry) tag(key string) name.Tag { return r.repo.Tag(key) }

// Pushed describes a push.
type Pushed struct {
	// Ref is REPO:KEY, Digest the manifest's digest.
	Ref, Digest string
	// Size is the compressed size of the layers and config; Raw the
	// size of the layers' tars; Files the number of their members (files,
	// links, directories).
	Size, Raw int64
	Files     int
	// Layers are the layers' names and compressed sizes, in order.
	Layers []LayerSize
	// Took is how long packing and pushing took.
	Took time.Duration
}

// LayerSize is one layer's compressed size.
type LayerSize struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

func (p *Pushed) String() string {
	return fmt.Sprintf("%s (%s, %s in %.1fs)", p.Ref, short(p.Digest), mb(p.Size), p.Took.Seconds())
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// Artifact packs the published kernel cache entry dir into layer files
// in work (a directory the caller removes), without pushing it.
func Artifact(dir, work string) (*Image, error) {
	e, err := openEntry(dir)
	if err != nil {
		return nil, err
	}
	ls, err := e.layers()
	if err != nil {
		return nil, err
	}
	img := &Image{meta: e.meta, config: e.metaJSON}
	var mu sync.Mutex
	var g errgroup.Group
	for _, name := range layerNames {
		ms, ok := ls[name]
		if !ok {
			continue
		}
		g.Go(func() error {
			p, err := pack(work, name, ms)
			if err != nil {
				return fmt.Errorf("pack %s: %w", dir, cache.ExplainNoSpace(err, work))
			}
			mu.Lock()
			img.layers = append(img.layers, p)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	img.sortLayers()
	return img, nil
}

// Push packs the published kernel cache entry dir and pushes it, tagged by
// its key, replacing what the tag named.
func (r *Registry) Push(ctx context.Context, dir string) (*Pushed, error) {
	t0 := time.Now()
	work, err := os.MkdirTemp("", "lkmtest-push-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	img, err := Artifact(dir, work)
	if err != nil {
		return nil, err
	}
	ref := r.tag(img.meta.Key)
	if err := r.write(ctx, img); err != nil {
		return nil, err
	}
	d, err := img.v1().Digest()
	if err != nil {
		return nil, err
	}
	p := &Pushed{Ref: ref.String(), Digest: d.String(), Size: int64(len(img.config)), Took: time.Since(t0)}
	for _, l := range img.layers {
		p.Size += l.size
		p.Raw += l.raw
		p.Files += l.files
		p.Layers = append(p.Layers, LayerSize{Name: l.name, Size: l.size})
	}
	return p, nil
}

// write pushes img, tagged by its key.
func (r *Registry) write(ctx context.Context, img *Image) error {
	if err := remote.Write(r.tag(img.meta.Key), img.v1(), append(r.opts, remote.WithContext(ctx))...); err != nil {
		return r.explain("push "+img.meta.Key+" to", err)
	}
	return nil
}

// Share pushes the published kernel entry dir unless the registry has its
// tag already (kbuild.Remote). After the registry was found unreachable,
// or refused a push, it says nothing and does nothing.
func (r *Registry) Share(ctx context.Context, dir string) (string, error) {
	if r.pushIsRefused() {
		return "", nil
	}
	key := filepath.Base(dir)
	if _, err := remote.Head(r.tag(key), append(r.opts, remote.WithContext(ctx))...); err == nil {
		return "", nil
	} else if f := r.classify(err); f != missing && f != refusedAuth {
		return "", r.explain("look up "+key+" in", err)
	}
	// Missing, or a read refused (ghcr.io refuses to say whether a
	// package it does not have exists): push, and let the push say.
	p, err := r.Push(ctx, dir)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// Pulled describes a pull.
type Pulled struct {
	Ref, Digest string
	// Size is the compressed size read, Files the members unpacked.
	Size  int64
	Files int
	Took  time.Duration
}

func (p *Pulled) String() string {
	return fmt.Sprintf("%s (%s, %s in %.1fs)", p.Ref, short(p.Digest), mb(p.Size), p.Took.Seconds())
}

// Fetch fills tmp, the empty temporary directory of the kernel cache
// entry key, from the artifact tagged key, refusing one whose metadata is
// not that of key, a and version (kbuild.Remote). After the registry was
// found unreachable it returns ("", nil) at once.
func (r *Registry) Fetch(ctx context.Context, tmp, key string, a arch.Arch, version string) (string, error) {
	if r.isDown() {
		return "", nil
	}
	p, err := r.fetch(ctx, tmp, meta{Key: key, Arch: a, KernelVersion: version})
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// Pull fills the cache entry key of c from the registry (unless c has it)
// and returns its directory, published as kbuild publishes a build.
func (r *Registry) Pull(ctx context.Context, c *cache.Dir, key string, a arch.Arch, version string) (string, *Pulled, error) {
	var p *Pulled
	dir, _, err := c.Ensure(ctx, "kernels", key, func(ctx context.Context, tmp string) error {
		var err error
		p, err = r.fetch(ctx, tmp, meta{Key: key, Arch: a, KernelVersion: version})
		return err
	})
	return dir, p, err
}

// maxConfig bounds the config blob (a metadata.json is a few kB).
const maxConfig = 1 << 20

func (r *Registry) fetch(ctx context.Context, tmp string, want meta) (*Pulled, error) {
	p, err := r.fetch1(ctx, tmp, want)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // interrupted: whatever failed then is no news
	}
	return p, err
}

func (r *Registry) fetch1(ctx context.Context, tmp string, want meta) (*Pulled, error) {
	t0 := time.Now()
	ref := r.tag(want.Key)
	puller, err := remote.NewPuller(append(r.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, err
	}
	desc, err := puller.Get(ctx, ref)
	if err != nil {
		return nil, r.explain("pull "+want.Key+" from", err)
	}
	refused := func(why string, args ...any) error {
		return fmt.Errorf("kernel registry %s: %s refused: %s", r, ref, fmt.Sprintf(why, args...))
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return nil, refused("%v: its manifest is %s, not an OCI image manifest", errNotKernel, desc.MediaType)
	}
	man, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, refused("its manifest: %v", err)
	}
	if man.ArtifactType != ArtifactType || man.Config.MediaType != ConfigMediaType {
		return nil, refused("%v (artifactType %q, config %q)", errNotKernel, man.ArtifactType, man.Config.MediaType)
	}
	if man.Config.Size > maxConfig {
		return nil, refused("its config is %d bytes", man.Config.Size)
	}
	// The config: metadata.json, checked against its digest, then against
	// the kernel asked for.
	config, err := r.config(ctx, puller, man.Config)
	if err != nil {
		return nil, refused("config: %v", err)
	}
	got, err := parseMeta(config)
	if err != nil {
		return nil, refused("%v", err)
	}
	if got.Key != want.Key || got.Arch != want.Arch || got.KernelVersion != want.KernelVersion {
		return nil, refused("its metadata is %s, not %s: the tag names another kernel", got, want)
	}
	for k, v := range got.annotations() {
		if k == annoTitle || k == annoCreated {
			continue
		}
		if a, ok := man.Annotations[k]; ok && a != v {
			return nil, refused("its annotation %s is %q, its metadata says %q", k, a, v)
		}
	}
	// The layers, each unpacked while it is read and checked.
	byName := map[string]v1.Descriptor{}
	for _, l := range man.Layers {
		n := l.Annotations[annoLayer]
		if !validLayer(n) || l.MediaType != LayerMediaType {
			return nil, refused("layer %s: name %q, media type %s: not one of lkmtest's layers", short(l.Digest.String()), n, l.MediaType)
		}
		if _, dup := byName[n]; dup {
			return nil, refused("two %s layers", n)
		}
		byName[n] = l
	}
	for _, n := range []string{layerImage, layerBuild, layerSource} {
		if _, ok := byName[n]; !ok {
			return nil, refused("no %s layer", n)
		}
	}
	t := newTree(tmp)
	p := &Pulled{Ref: ref.String(), Digest: desc.Digest.String(), Size: man.Config.Size}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for n, l := range byName {
		prefix := "build"
		if n == layerSource {
			prefix = "source"
		}
		g.Go(func() error {
			rc, err := r.open(gctx, puller, l)
			if err != nil {
				return err
			}
			defer rc.Close()
			files, err := unpackLayer(t, rc, l.Digest.String(), l.Size, prefix)
			if err != nil {
				if gctx.Err() != nil && ctx.Err() == nil {
					return nil // another layer's error stopped this one
				}
				return refused("layer %s (%s): %v", n, short(l.Digest.String()), err)
			}
			mu.Lock()
			p.Size += l.Size
			p.Files += files
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := complete(tmp, config, got); err != nil {
		return nil, refused("%v", err)
	}
	// Last: the directories' times, which complete's writes would change.
	if err := t.finish(); err != nil {
		return nil, err
	}
	p.Took = time.Since(t0)
	origin, _ := json.MarshalIndent(map[string]any{"ref": p.Ref, "digest": p.Digest, "pulled": time.Now().UTC()}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "pulled.json"), append(origin, '\n'), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func validLayer(n string) bool {
	for _, l := range layerNames {
		if n == l {
			return true
		}
	}
	return false
}

// open opens the blob of d (compressed, as stored).
func (r *Registry) open(ctx context.Context, p *remote.Puller, d v1.Descriptor) (io.ReadCloser, error) {
	l, err := p.Layer(ctx, r.repo.Digest(d.Digest.String()))
	if err != nil {
		return nil, r.explain("read "+short(d.Digest.String())+" from", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, r.explain("read "+short(d.Digest.String())+" from", err)
	}
	return rc, nil
}

// config reads the config blob of d, checked against its digest and size.
func (r *Registry) config(ctx context.Context, p *remote.Puller, d v1.Descriptor) ([]byte, error) {
	rc, err := r.open(ctx, p, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	v := newVerifier(rc, d.Digest.String(), d.Size)
	b, rerr := io.ReadAll(v)
	if err := v.check(); err != nil {
		return nil, err
	}
	return b, rerr
}

// complete checks an unpacked entry and adds what the artifact does not
// carry: metadata.json, build/source (linking to source/) and the O=
// tree's Makefile, which includes the source tree's through that link.
func complete(tmp string, config []byte, m meta) error {
	for _, f := range []string{
		filepath.Join("build", m.Arch.Spec().Image), "build/.config", "build/Module.symvers",
		"build/include/generated/autoconf.h", "build/include/config/auto.conf", "build/scripts/basic/fixdep",
		"build/scripts/mod/modpost", "source/Makefile", "source/scripts/Makefile.build",
	} {
		if st, err := os.Lstat(filepath.Join(tmp, f)); err != nil || !st.Mode().IsRegular() {
			return fmt.Errorf("%w: %s", errEssential, f)
		}
	}
	b, err := os.ReadFile(filepath.Join(tmp, "build", ".config"))
	if err != nil {
		return err
	}
	c, err := kconfig.Parse(".config", string(b))
	if err != nil {
		return fmt.Errorf("its .config: %w", err)
	}
	if n := c.Count("y"); n != m.OptionsY {
		return fmt.Errorf("its .config has %d options =y, its metadata says %d", n, m.OptionsY)
	}
	if err := os.Symlink("../source", filepath.Join(tmp, "build", "source")); err != nil {
		return err
	}
	stub := "# Written by lkmtest for a kernel pulled from a registry: the source\n# tree is ./source (../source), as make O= would link it.\ninclude source/Makefile\n"
	if err := os.WriteFile(filepath.Join(tmp, "build", "Makefile"), []byte(stub), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tmp, "metadata.json"), config, 0o600)
}

// Image is a packed kernel artifact.
type Image struct {
	meta   meta
	config []byte
	layers []*packed
}

func (img *Image) sortLayers() {
	order := map[string]int{}
	for i, n := range layerNames {
		order[n] = i
	}
	ls := img.layers
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && order[ls[j].name] < order[ls[j-1].name]; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// Size is the compressed size of the layers and the config.
func (img *Image) Size() int64 {
	n := int64(len(img.config))
	for _, l := range img.layers {
		n += l.size
	}
	return n
}

// Layers are the layers' names and compressed sizes.
func (img *Image) Layers() []LayerSize {
	var out []LayerSize
	for _, l := range img.layers {
		out = append(out, LayerSize{Name: l.name, Size: l.size})
	}
	return out
}

// manifest is the OCI image manifest of img.
func (img *Image) manifest() ([]byte, error) {
	cd, err := v1.NewHash(sha256Hex(img.config))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: ArtifactType,
		Config:      v1.Descriptor{MediaType: ConfigMediaType, Size: int64(len(img.config)), Digest: cd},
		Annotations: img.meta.annotations(),
	}
	for _, l := range img.layers {
		d, err := v1.NewHash(l.digest)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: LayerMediaType, Size: l.size, Digest: d,
			Annotations: map[string]string{annoLayer: l.name, annoTitle: l.name + ".tar.zst"}})
	}
	return json.Marshal(m)
}

// v1 is img as the library's image.
func (img *Image) v1() v1.Image {
	i, _ := partial.CompressedToImage(&core{img: img})
	return i
}

// core is the least of v1.Image the library needs to push img.
type core struct{ img *Image }

func (c *core) RawConfigFile() ([]byte, error)      { return c.img.config, nil }
func (c *core) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (c *core) RawManifest() ([]byte, error)        { return c.img.manifest() }
func (c *core) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range c.img.layers {
		if l.digest == h.String() {
			return &fileLayer{l}, nil
		}
	}
	return nil, fmt.Errorf("no layer %s", h)
}

// fileLayer is a packed layer, read from its file.
type fileLayer struct{ p *packed }

func (f *fileLayer) Digest() (v1.Hash, error)            { return v1.NewHash(f.p.digest) }
func (f *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(f.p.path) }
func (f *fileLayer) Size() (int64, error)                { return f.p.size, nil }
func (f *fileLayer) MediaType() (types.MediaType, error) { return LayerMediaType, nil }
