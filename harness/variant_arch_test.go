package harness

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// A boot.config variant none of whose specs runs on a cell's arch is not
// prepared for that cell (an arm64-only fragment would not survive an
// x86_64 configuration): its specs are SKIP with their requirement, and
// the arm64 cell builds and runs it. KernelKeys leaves it out alike.
func TestVariantNotPreparedForAnArchItsSpecsRuleOut(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "va48.config"), []byte("CONFIG_ARM64_VA_BITS_48=y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, spec.FileName)
	text := "name: arm64-only\nrequires:\n  arch: [arm64]\nboot:\n  config: va48.config\n" +
		"steps:\n  - insmod: hello\n    timeout: 2s\n"
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(*fakeVM, guest.Request) *guest.Response { return &guest.Response{} }
	var mu sync.Mutex
	var prepared []string
	old := prepareTarget
	defer func() { prepareTarget = old }()
	prepareTarget = func(ctx context.Context, o *Options) (*Target, error) {
		mu.Lock()
		prepared = append(prepared, string(o.Arch)+"+"+o.Variant)
		mu.Unlock()
		tg, _ := fakeTarget(t, &fakeAgent{answer: answer}, "", builtHello)
		tg.Options.Arch, tg.Options.Variant = o.Arch, o.Variant
		return tg, nil
	}
	cells := []Cell{NewCell("6.1", arch.X86_64), NewCell("6.1", arch.ARM64)}
	m, err := RunMatrix(context.Background(), &Options{Out: t.TempDir(), Log: testLog{}, VMs: 1}, cells, []*spec.Spec{s})
	if err != nil {
		t.Fatal(err)
	}
	if len(prepared) != 1 || prepared[0] != "arm64+va48" {
		t.Errorf("prepared %v, want the arm64 cell's va48 variant alone", prepared)
	}
	if r := m.Result(0, 0); r.Outcome != result.Skip || r.Reason != "runs only on arm64" || r.Variant != "va48" {
		t.Errorf("x86_64: %s (variant %q), want SKIP: runs only on arm64, on va48", r.Summary(), r.Variant)
	}
	if r := m.Result(0, 1); r.Outcome != result.Pass {
		t.Errorf("arm64: %s, want PASS", r.Summary())
	}
	if t.Failed() {
		return
	}
	keys, err := KernelKeys(context.Background(), &Options{Log: testLog{}}, cells[:1], []*spec.Spec{s})
	if err != nil || len(keys) != 0 {
		t.Errorf("KernelKeys on x86_64: %+v, %v; want none", keys, err)
	}
}
