package registrytest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Server is an in-process registry on 127.0.0.1 (plain HTTP, as
// go-containerregistry speaks to loopback registries).
type Server struct {
	// Host is 127.0.0.1:PORT.
	Host string

	srv   *httptest.Server
	blobs *blobs
}

// New starts a registry that t stops.
func New(t testing.TB) *Server {
	b := &blobs{mem: registry.NewInMemoryBlobHandler(), corrupt: map[string]bool{}}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(b))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Server{Host: strings.TrimPrefix(srv.URL, "http://"), srv: srv, blobs: b}
}

// Repo is the repository name on s ("127.0.0.1:PORT/name").
func (s *Server) Repo(name string) string { return s.Host + "/" + name }

// Corrupt makes s serve the blob digest ("sha256:...") with one byte
// changed in its middle (on) or as stored (off).
func (s *Server) Corrupt(digest string, on bool) {
	s.blobs.mu.Lock()
	defer s.blobs.mu.Unlock()
	s.blobs.corrupt[digest] = on
}

// Throttle makes s serve blobs at about bytesPerSecond (0: at full speed).
func (s *Server) Throttle(bytesPerSecond int) {
	s.blobs.mu.Lock()
	defer s.blobs.mu.Unlock()
	s.blobs.rate = bytesPerSecond
}

// BlobGets counts the blob reads served.
func (s *Server) BlobGets() int {
	s.blobs.mu.Lock()
	defer s.blobs.mu.Unlock()
	return s.blobs.gets
}

// Retag makes the tag to of repo name the manifest that the tag from
// names (a tag lying about the kernel it names).
func (s *Server) Retag(t testing.TB, repo, from, to string) {
	t.Helper()
	src, err := name.NewTag(s.Repo(repo) + ":" + from)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(src)
	if err != nil {
		t.Fatalf("retag: %v", err)
	}
	if err := remote.Tag(src.Context().Tag(to), desc); err != nil {
		t.Fatalf("retag: %v", err)
	}
}

// Manifest returns the raw manifest the tag of repo names.
func (s *Server) Manifest(t testing.TB, repo, tag string) []byte {
	t.Helper()
	ref, err := name.NewTag(s.Repo(repo) + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return desc.Manifest
}

// Refusing starts a server that answers every request with status (401,
// 403, 500...), as a registry refusing the credentials or failing does.
func Refusing(t testing.TB, status int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"registrytest refuses everything (%d)"}]}`, status)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// blobs is the in-memory blob store with the faults.
type blobs struct {
	mem registry.BlobHandler

	mu      sync.Mutex
	corrupt map[string]bool
	rate    int
	gets    int
}

func (b *blobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	rc, err := b.mem.Get(ctx, repo, h)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	corrupt, rate := b.corrupt[h.String()], b.rate
	b.gets++
	b.mu.Unlock()
	if corrupt {
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if len(data) > 0 {
			data[len(data)/2] ^= 0x55
		}
		rc = io.NopCloser(strings.NewReader(string(data)))
	}
	if rate > 0 {
		rc = &slow{rc: rc, ctx: ctx, rate: rate}
	}
	return rc, nil
}

func (b *blobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	return b.mem.(registry.BlobStatHandler).Stat(ctx, repo, h)
}

func (b *blobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	return b.mem.(registry.BlobPutHandler).Put(ctx, repo, h, rc)
}

func (b *blobs) Delete(ctx context.Context, repo string, h v1.Hash) error {
	return b.mem.(registry.BlobDeleteHandler).Delete(ctx, repo, h)
}

// slow reads at about rate bytes a second, in chunks of a tenth of it.
type slow struct {
	rc   io.ReadCloser
	ctx  context.Context
	rate int
}

func (s *slow) Read(p []byte) (int, error) {
	if chunk := s.rate / 10; chunk > 0 && len(p) > chunk {
		p = p[:chunk]
	}
	select {
	case <-s.ctx.Done():
		return 0, s.ctx.Err()
	case <-time.After(time.Duration(len(p)) * time.Second / time.Duration(s.rate)):
	}
	return s.rc.Read(p)
}

func (s *slow) Close() error { return s.rc.Close() }
