package harness

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// A boot.config variant none of whose specs can run on a cell, by its
// arch or its release, is not prepared for that cell (an arm64-only
// fragment would not survive an x86_64 configuration; a kernel for 6.x
// layouts is not built on another series): its specs are SKIP, each with
// its requirement. A variant one of whose specs runs is prepared, and the
// others SKIP on it as usual. KernelKeys leaves out what is not prepared.
// A SKIP of a variant not prepared names the cell's release, as a result
// of a prepared one does.
func TestVariantNotPreparedWhereItsSpecsCannotRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("va48.config", "CONFIG_ARM64_VA_BITS_48=y\n")
	write("other.config", "CONFIG_ARM64_VA_BITS_39=y\n")
	specOf := func(name, kernel, frag string) *spec.Spec {
		write(name+"/"+spec.FileName, "name: "+name+"\nrequires:\n  arch: [arm64]\n  kernel: \""+kernel+"\"\n"+
			"boot:\n  config: ../"+frag+"\nsteps:\n  - insmod: hello\n    timeout: 2s\n")
		s, err := spec.Load(filepath.Join(dir, name, spec.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	specs := []*spec.Spec{specOf("a61", "=6.1", "va48.config"), specOf("a612", "=6.12", "va48.config"),
		specOf("c612", "=6.12", "other.config")}
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
	for j := range cells {
		cells[j].Release = "6.1.192" // as if the cell's own kernel were prepared
	}
	m, err := RunMatrix(context.Background(), &Options{Out: t.TempDir(), Log: testLog{}, VMs: 1}, cells, specs)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(prepared)
	if len(prepared) != 1 || prepared[0] != "arm64+va48" {
		t.Errorf("prepared %v, want the arm64 cell's va48 variant alone", prepared)
	}
	for _, c := range []struct {
		i, j    int
		outcome result.Outcome
		reason  string
	}{
		{0, 0, result.Skip, "runs only on arm64"},
		{1, 0, result.Skip, "runs only on arm64"},
		{2, 0, result.Skip, "runs only on arm64"},
		{0, 1, result.Pass, ""},
		{1, 1, result.Skip, "needs kernel =6.12 (this is 6.1.192)"},
		{2, 1, result.Skip, "needs kernel =6.12 (this is 6.1.192)"},
	} {
		if r := m.Result(c.i, c.j); r.Outcome != c.outcome || r.Reason != c.reason {
			t.Errorf("%s on %s: %s, want %s %q", specs[c.i].Name, cells[c.j].Arch, r.Summary(), c.outcome, c.reason)
		}
		// In the table, in its base cell's column (named by the release).
		if r := m.Result(c.i, c.j); r.Kernel != "6.1.192" {
			t.Errorf("%s on %s: kernel %q, want the cell's release 6.1.192", specs[c.i].Name, cells[c.j].Arch, r.Kernel)
		}
	}
	if t.Failed() {
		return
	}
	keys, err := KernelKeys(context.Background(), &Options{Log: testLog{}}, cells[:1], specs)
	if err != nil || len(keys) != 0 {
		t.Errorf("KernelKeys on x86_64: %+v, %v; want none", keys, err)
	}
}
