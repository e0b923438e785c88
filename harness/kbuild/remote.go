package kbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
)

// Remote is a store of built kernels shared between machines: an OCI
// registry (package registry). BuildKernel asks it for a kernel missing
// from the cache before building one, into the entry's temporary directory
// (so a pulled kernel is published exactly as a built one: under the
// entry's lock, by the same rename), and offers it every kernel it built or
// found. Its failures never fail the call: they are reported through
// KernelRequest.Notify and the kernel is built locally, unless the Remote
// is wrapped in PullOnly.
type Remote interface {
	// Fetch fills tmp, the empty temporary directory of the cache entry
	// key, with that kernel (metadata.json, build/ and what build/ needs),
	// refusing one whose metadata is not key's, a's and version's. It
	// returns what it fetched, for messages; ("", nil) means that nothing
	// was fetched and that there is nothing to report (the registry was
	// found unreachable before).
	Fetch(ctx context.Context, tmp, key string, a arch.Arch, version string) (string, error)
	// Share makes sure the remote holds the published cache entry dir,
	// and returns what it pushed ("" when the remote had it already, or
	// when there is nothing to report).
	Share(ctx context.Context, dir string) (string, error)
}

// PullOnly wraps the Remote a kernel must come from (lkmtest kernel pull):
// a kernel missing from the cache is fetched from it or the call fails;
// nothing is built, and nothing is pushed.
type PullOnly struct{ Remote }

// ErrNotPulled is returned by BuildKernel with a PullOnly remote that
// fetched nothing and gave no reason.
var ErrNotPulled = errors.New("not pulled: the kernel registry was found unreachable before")

// pull fills tmp from req.Remote; pulled is what it fetched ("": nothing,
// build it). An error ends the call: the context's, or any with PullOnly.
func (req *KernelRequest) pull(ctx context.Context, tmp, key string) (pulled string, err error) {
	if req.Remote == nil {
		return "", nil
	}
	_, only := req.Remote.(PullOnly)
	what, err := req.Remote.Fetch(ctx, tmp, key, req.Arch, req.Source.Version)
	switch {
	case err == nil && what != "":
		req.notify("pulled from " + what)
		return what, nil
	case ctx.Err() != nil:
		return "", ctx.Err()
	case only && err == nil:
		return "", ErrNotPulled
	case only:
		return "", err
	case err != nil:
		req.notify(oneLine(err) + "; building locally")
	}
	// Whatever the failed pull left goes: the build starts from an
	// empty entry.
	ents, rerr := os.ReadDir(tmp)
	for _, e := range ents {
		if rerr == nil {
			rerr = cache.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
	return "", rerr
}

// share offers k to req.Remote, unless it came from there.
func (req *KernelRequest) share(ctx context.Context, k *Kernel) {
	if req.Remote == nil || k.Pulled != "" {
		return
	}
	if _, only := req.Remote.(PullOnly); only {
		return
	}
	what, err := req.Remote.Share(ctx, k.Dir)
	switch {
	case err != nil && ctx.Err() == nil:
		req.notify(oneLine(err) + "; the kernel stays in this cache only")
	case err == nil && what != "":
		req.notify("pushed to " + what)
	}
}

// resolve resolves a source that was only identified (Identify: no Dir),
// before a build needs its tree.
func (req *KernelRequest) resolve(ctx context.Context) error {
	if req.Source.Dir != "" {
		return nil
	}
	if req.Resolve == nil {
		return fmt.Errorf("kernel %s: the source tree is not resolved, and nothing can resolve it", req.Source.Version)
	}
	src, err := req.Resolve(ctx)
	if err != nil {
		return err
	}
	if src.Identity != req.Source.Identity {
		return fmt.Errorf("kernel %s: the source changed while the kernel was looked up (%s, now %s): run again", req.Source.Version, req.Source.Identity, src.Identity)
	}
	req.Source = src
	return nil
}

func (req *KernelRequest) notify(msg string) {
	if req.Notify != nil {
		req.Notify(msg)
	}
}

// oneLine is an error's text on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
