package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	if Key("ab", "c") == Key("a", "bc") {
		t.Error(`Key("ab","c") == Key("a","bc"): parts must be delimited`)
	}
	if Key("x") != Key("x") || len(Key("x")) != 24 {
		t.Errorf("Key is not a stable 24-char hex string: %q", Key("x"))
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got, _ := DefaultRoot(); got != "/xdg/lkmtest" {
		t.Errorf("DefaultRoot with XDG_CACHE_HOME = %q, want /xdg/lkmtest", got)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got, _ := DefaultRoot(); got != "/home/u/.cache/lkmtest" {
		t.Errorf("DefaultRoot = %q, want /home/u/.cache/lkmtest", got)
	}
}

func TestEnsurePublishesAtomically(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "new"))
	if err != nil {
		t.Fatal(err)
	}
	dir, built, err := d.Ensure(context.Background(), "k", "key1", func(ctx context.Context, tmp string) error {
		if d.Exists("k", "key1") {
			t.Error("entry visible before the build finished")
		}
		return os.WriteFile(filepath.Join(tmp, "out"), []byte("data"), 0o600)
	})
	if err != nil || !built {
		t.Fatalf("Ensure = %v, built %v", err, built)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "data" {
		t.Errorf("published content = %q", b)
	}
	_, built, err = d.Ensure(context.Background(), "k", "key1", func(ctx context.Context, tmp string) error {
		t.Error("builder called on a hit")
		return nil
	})
	if err != nil || built {
		t.Errorf("second Ensure = %v, built %v; want a hit", err, built)
	}
	if st, _ := os.Stat(d.Root); st.Mode().Perm() != 0o700 {
		t.Errorf("cache root mode = %v, want 0700", st.Mode().Perm())
	}
}

func TestEnsureFailureLeavesNothing(t *testing.T) {
	d, _ := Open(t.TempDir())
	boom := errors.New("boom")
	_, _, err := d.Ensure(context.Background(), "k", "bad", func(ctx context.Context, tmp string) error {
		os.WriteFile(filepath.Join(tmp, "half"), []byte("x"), 0o600)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	left, _ := filepath.Glob(filepath.Join(d.Root, "k", "bad*"))
	for _, l := range left {
		if filepath.Ext(l) != ".lock" {
			t.Errorf("left behind: %s", l)
		}
	}
}

func TestEnsureRemovesLeftoversOfAKilledBuild(t *testing.T) {
	d, _ := Open(t.TempDir())
	stale := filepath.Join(d.Root, "k", "key.tmp-123")
	os.MkdirAll(filepath.Join(stale, "sub"), 0o700)
	os.Chmod(filepath.Join(stale, "sub"), 0o500) // read-only, like an unpacked tree
	incomplete := d.Path("k", "key")
	os.MkdirAll(incomplete, 0o700) // no .complete marker
	if _, _, err := d.Ensure(context.Background(), "k", "key", func(ctx context.Context, tmp string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary directory still there: %v", err)
	}
	if !d.Exists("k", "key") {
		t.Error("entry not published")
	}
}

func TestEnsureConcurrentBuildsOnce(t *testing.T) {
	d, _ := Open(t.TempDir())
	var builds atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, _, err := d.Ensure(context.Background(), "k", "shared", func(ctx context.Context, tmp string) error {
				builds.Add(1)
				time.Sleep(200 * time.Millisecond)
				return os.WriteFile(filepath.Join(tmp, "f"), []byte("ok"), 0o600)
			})
			if err != nil {
				t.Error(err)
				return
			}
			if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "ok" {
				t.Errorf("reader saw %q, %v", b, err)
			}
		}()
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("built %d times, want 1", n)
	}
}

func TestLockHonoursContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.lock")
	unlock, err := Lock(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock = %v, want deadline exceeded", err)
	}
}

func TestMemo(t *testing.T) {
	d, _ := Open(t.TempDir())
	calls := 0
	fn := func() (string, error) { calls++; return "v1", nil }
	for i := 0; i < 3; i++ {
		if v, err := d.Memo("k", fn); err != nil || v != "v1" {
			t.Fatalf("Memo = %q, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
	if _, err := d.Memo("other", func() (string, error) { return "", errors.New("no") }); err == nil {
		t.Error("an error from fn must be returned")
	}
	if v, _ := d.Memo("other", func() (string, error) { return "ok", nil }); v != "ok" {
		t.Error("a failed computation must not be stored")
	}
	if id, err := ToolID("sh"); err != nil || id == "" {
		t.Errorf("ToolID(sh) = %q, %v", id, err)
	}
	if _, err := ToolID("no-such-tool-lkmtest"); err == nil {
		t.Error("ToolID of a missing tool must fail")
	}
}
