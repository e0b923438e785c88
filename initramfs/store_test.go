package initramfs

import (
	"os/exec"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
)

// Callers pass their *cache.Dir.
var _ Store = (*cache.Dir)(nil)

// The keys are cache.Key's: entries built before initramfs took a Store
// are found again.
func TestKeyIsCacheKey(t *testing.T) {
	for _, parts := range [][]string{
		{"busybox/v1", "arm64"},
		{"ab", "c"},
		{"a", "bc"},
		{},
		{"base/v2", "x86_64", "v0.16.0", "go version go1.26.8 linux/amd64", "cat,chmod", "goshsmall"},
	} {
		if got, want := key(parts...), cache.Key(parts...); got != want {
			t.Errorf("key(%q) = %s, cache.Key = %s", parts, got, want)
		}
	}
	if key("ab", "c") == key("a", "bc") {
		t.Errorf("key does not separate its parts")
	}
}

func TestToolIDIsCacheToolID(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	got, err := toolID("sh")
	want, werr := cache.ToolID("sh")
	if err != nil || werr != nil || got != want {
		t.Errorf("toolID(sh) = %q, %v; cache.ToolID = %q, %v", got, err, want, werr)
	}
	if _, err := toolID("lkmtest-no-such-tool"); err == nil {
		t.Errorf("toolID of a missing program succeeded")
	}
}
