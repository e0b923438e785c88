package kbuild

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
)

// fakeRemote fills an entry with a metadata.json, or fails.
type fakeRemote struct {
	fetchErr        error
	fetched, shared []string
}

func (f *fakeRemote) Fetch(ctx context.Context, tmp, key string, a arch.Arch, version string) (string, error) {
	f.fetched = append(f.fetched, key)
	if f.fetchErr != nil {
		_ = os.WriteFile(filepath.Join(tmp, "half-pulled"), nil, 0o600)
		return "", f.fetchErr
	}
	b, _ := json.Marshal(Metadata{Key: key, Arch: a, KernelVersion: version})
	return "fake:" + key, os.WriteFile(filepath.Join(tmp, "metadata.json"), b, 0o600)
}

func (f *fakeRemote) Share(ctx context.Context, dir string) (string, error) {
	f.shared = append(f.shared, dir)
	return "fake-pushed", nil
}

// remoteRequest is a request for the fake tree's kernel (whose build
// fails at once: a make that ran shows) with remote r, recording what
// Notify, OnMiss and Resolve were told.
func remoteRequest(t *testing.T, r Remote) (KernelRequest, *[]string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: apt-get install make")
	}
	a, err := arch.Host()
	if err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath(a.CC()); err != nil {
		t.Skipf("no %s: the key needs the compiler's version", a.CC())
	}
	tree := fakeTree(t)
	var events []string
	req := KernelRequest{
		// Only identified: resolved when a build needs the tree.
		Source: &Source{Version: "5.4.302", Identity: "fake:5.4.302"},
		Arch:   a, Jobs: 1, Remote: r,
		Fragments: []Fragment{{Name: "test.config", Text: "CONFIG_MODULES=y\n"}},
		Notify:    func(s string) { events = append(events, "notify: "+s) },
		OnMiss:    func() { events = append(events, "miss") },
		Resolve: func(context.Context) (*Source, error) {
			events = append(events, "resolve")
			return &Source{Dir: tree, Version: "5.4.302", Identity: "fake:5.4.302"}, nil
		},
	}
	return req, &events
}

// A kernel the cache lacks is pulled into the entry, published, and not
// built (no make, no source tree); a later lookup is a hit, offered to
// the remote.
func TestBuildKernelPulls(t *testing.T) {
	c, _ := cache.Open(t.TempDir())
	r := &fakeRemote{}
	req, events := remoteRequest(t, r)
	k, err := BuildKernel(context.Background(), c, req)
	if err != nil {
		t.Fatal(err)
	}
	if k.Built || k.Pulled != "fake:"+k.Key || !c.Exists("kernels", k.Key) || k.Meta.Key != k.Key {
		t.Errorf("kernel %+v: want pulled, published, not built", k)
	}
	if got := strings.Join(*events, "|"); got != "notify: pulled from fake:"+k.Key {
		t.Errorf("events %q: want only the pull's line (no build, no resolve)", got)
	}
	if len(r.shared) != 0 {
		t.Errorf("a pulled kernel was pushed back: %v", r.shared)
	}
	*events = nil
	k2, err := BuildKernel(context.Background(), c, req)
	if err != nil || k2.Pulled != "" || k2.Built {
		t.Fatalf("the hit: %+v %v", k2, err)
	}
	if len(r.fetched) != 1 || len(r.shared) != 1 || r.shared[0] != k.Dir {
		t.Errorf("the hit fetched %v, shared %v: want no fetch, %s shared", r.fetched, r.shared, k.Dir)
	}
	if got := strings.Join(*events, "|"); got != "notify: pushed to fake-pushed" {
		t.Errorf("events of the hit %q", got)
	}
}

// A remote that fails is one line, and the kernel is built locally from
// an emptied entry (here the fake tree's build fails: it ran).
func TestBuildKernelFallsBack(t *testing.T) {
	c, _ := cache.Open(t.TempDir())
	req, events := remoteRequest(t, &fakeRemote{fetchErr: errors.New("kernel registry r unreachable (dial:\nrefused)")})
	_, err := BuildKernel(context.Background(), c, req)
	var be *KernelBuildError
	if !errors.As(err, &be) {
		t.Fatalf("err %v: want the local build's", err)
	}
	want := "notify: kernel registry r unreachable (dial: refused); building locally|miss|resolve"
	if got := strings.Join(*events, "|"); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

// PullOnly: a failed pull fails, and nothing is built.
func TestBuildKernelPullOnly(t *testing.T) {
	c, _ := cache.Open(t.TempDir())
	fail := errors.New("kernel registry r has no such kernel")
	req, events := remoteRequest(t, PullOnly{&fakeRemote{fetchErr: fail}})
	if _, err := BuildKernel(context.Background(), c, req); !errors.Is(err, fail) {
		t.Errorf("err %v, want the pull's", err)
	}
	if len(*events) != 0 {
		t.Errorf("events %q: want none (no build)", *events)
	}
	if left, _ := filepath.Glob(filepath.Join(c.Root, "kernels", "*", "*")); len(left) != 0 {
		t.Errorf("the failed pull left %v", left)
	}
	r := &fakeRemote{}
	req, _ = remoteRequest(t, PullOnly{r})
	if k, err := BuildKernel(context.Background(), c, req); err != nil || k.Pulled == "" {
		t.Fatalf("%+v %v", k, err)
	}
	if _, err := BuildKernel(context.Background(), c, req); err != nil || len(r.shared) != 0 {
		t.Errorf("PullOnly shared %v (%v)", r.shared, err)
	}
}
