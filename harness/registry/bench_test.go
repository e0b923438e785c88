package registry

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/registry/registrytest"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// cachedKernel is the test cache's kernel (built when missing, as make
// test does).
func cachedKernel(tb testing.TB, kernel string, a arch.Arch) *kbuild.Kernel {
	tb.Helper()
	c, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
	if err != nil {
		tb.Fatal(err)
	}
	k, err := harness.Kernel(context.Background(), &harness.Options{Cache: c, Arch: a, Kernel: kernel, Log: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// BenchmarkKernelArtifact: the 6.1 x86_64 kernel's artifact, its
// compressed size (goal: at most 150 MB), push (pack and upload) and pull
// (download, check, unpack, publish into an empty cache: goal at most
// 30 s) against an in-process registry.
func BenchmarkKernelArtifact(b *testing.B) {
	testenv.NeedsKernelBuild(b)
	k := cachedKernel(b, "6.1", arch.X86_64)
	ctx := context.Background()
	var push, pull time.Duration
	var size, raw int64
	var files, n int
	for b.Loop() {
		reg, err := New(registrytest.New(b).Repo("kernels"), Credentials{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		p, err := reg.Push(ctx, k.Dir)
		if err != nil {
			b.Fatal(err)
		}
		push += time.Since(t0)
		c, err := cache.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, _, err := reg.Pull(ctx, c, k.Key, k.Meta.Arch, k.Meta.KernelVersion); err != nil {
			b.Fatal(err)
		}
		pull += time.Since(t1)
		size, raw, files, n = p.Size, p.Raw, p.Files, n+1
	}
	b.ReportMetric(float64(size)/1e6, "compressed-MB")
	b.ReportMetric(float64(raw)/1e6, "unpacked-MB")
	b.ReportMetric(float64(files), "members")
	b.ReportMetric(push.Seconds()/float64(n), "push-s")
	b.ReportMetric(pull.Seconds()/float64(n), "pull-unpack-s")
	if size > 150e6 {
		b.Errorf("the artifact is %.1f MB compressed, the goal at most 150", float64(size)/1e6)
	}
	if s := pull.Seconds() / float64(n); s > 30 {
		b.Errorf("pull and unpack took %.1f s, the goal at most 30", s)
	}
}
