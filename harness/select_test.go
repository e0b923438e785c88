package harness

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSelectSpecs(t *testing.T) {
	suite := t.TempDir()
	for _, n := range []string{"alpha", "beta"} {
		d := filepath.Join(suite, "ch", n)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "test.yaml"), []byte("name: "+n+"\nsteps:\n  - insmod: m\n"), 0o644)
	}
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "test.yaml"), []byte("name: mine\nsteps:\n  - insmod: m\n"), 0o644)

	names := func(args ...string) (string, error) {
		specs, err := SelectSpecs(suite, args)
		var out []string
		for _, s := range specs {
			out = append(out, s.Name)
		}
		return strings.Join(out, ","), err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "alpha,beta"},
		{[]string{"beta"}, "beta"},
		{[]string{outside}, "mine"},
		{[]string{filepath.Join(outside, "test.yaml"), "alpha"}, "mine,alpha"},
	} {
		if got, err := names(c.args...); err != nil || got != c.want {
			t.Errorf("SelectSpecs(%v) = %q, %v; want %q", c.args, got, err, c.want)
		}
	}
	if _, err := names("gamma"); err == nil || !strings.Contains(err.Error(), `no test named "gamma"`) || !strings.Contains(err.Error(), "alpha, beta") {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := SelectSpecs(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "no tests") {
		t.Errorf("empty suite: err = %v", err)
	}
}

// TestShard checks that every spec of the real suite is in exactly one
// shard for several N, that shard sizes differ by at most one, and that
// the split does not depend on the order the specs were found in.
func TestShard(t *testing.T) {
	specs, err := SelectSpecs("../modules", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 10 {
		t.Fatalf("suite has %d specs", len(specs))
	}
	reversed := slices.Clone(specs)
	slices.Reverse(reversed)
	for n := 1; n <= 7; n++ {
		count := map[string]int{}
		minSize, maxSize := len(specs), 0
		for i := 1; i <= n; i++ {
			shard := Shard(specs, i, n)
			minSize, maxSize = min(minSize, len(shard)), max(maxSize, len(shard))
			var a, b []string
			for _, s := range shard {
				count[s.Name]++
				a = append(a, s.Name)
			}
			for _, s := range Shard(reversed, i, n) {
				b = append(b, s.Name)
			}
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Errorf("shard %d/%d depends on the specs' order: %v vs %v", i, n, a, b)
			}
		}
		for _, s := range specs {
			if count[s.Name] != 1 {
				t.Errorf("n=%d: %s is in %d shards", n, s.Name, count[s.Name])
			}
		}
		if maxSize-minSize > 1 {
			t.Errorf("n=%d: shard sizes %d..%d", n, minSize, maxSize)
		}
	}
	for _, bad := range []string{"0/2", "3/2", "1/0", "x", "1/2/3", "1 /2", "-1/2"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if i, n, err := ParseShard("2/3"); err != nil || i != 2 || n != 3 {
		t.Errorf("ParseShard(2/3) = %d, %d, %v", i, n, err)
	}
}

// A directory without a test.yaml is a smoke test when it has a Kbuild or
// Makefile; a directory of tests says how to run them; anything else says
// what is missing.
func TestSelectSpecLess(t *testing.T) {
	// The smoke test is named after the directory, as a spec name is
	// written (lower case; - _ . and digits kept).
	mod := filepath.Join(t.TempDir(), "My_Mod-2.x")
	os.Mkdir(mod, 0o755)
	os.WriteFile(filepath.Join(mod, "Kbuild"), []byte("obj-m += m.o\n"), 0o644)
	specs, err := SelectSpecs(t.TempDir(), []string{mod})
	if err != nil || len(specs) != 1 || !specs[0].SpecLess || specs[0].Name != "my_mod-2.x" {
		t.Fatalf("SelectSpecs(module dir without a spec) = %+v, %v; want the smoke test my_mod-2.x", specs, err)
	}
	suite := t.TempDir()
	d := filepath.Join(suite, "x")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "test.yaml"), []byte("name: x\nsteps:\n  - insmod: m\n"), 0o644)
	if _, err := SelectSpecs(t.TempDir(), []string{suite}); err == nil || !strings.Contains(err.Error(), "--suite "+suite) {
		t.Errorf("a directory of tests: %v, want the --suite hint", err)
	}
	if _, err := SelectSpecs(t.TempDir(), []string{filepath.Join(mod, "Kbuild")}); err == nil || !strings.Contains(err.Error(), "is a file: give a module directory") {
		t.Errorf("a file: %v", err)
	}
	if _, err := SelectSpecs(t.TempDir(), []string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no Kbuild or Makefile") {
		t.Errorf("an empty directory: %v", err)
	}
}

// Every malformed spec among the arguments is reported in one go.
func TestSelectReportsEveryBadSpec(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(a, "test.yaml"), []byte("name: a\nsteps: []\n"), 0o644)
	os.WriteFile(filepath.Join(b, "test.yaml"), []byte("name: b\ntimout: 1s\nsteps:\n  - insmod: m\n"), 0o644)
	_, err := SelectSpecs(t.TempDir(), []string{a, b})
	if err == nil || !strings.Contains(err.Error(), "no steps") || !strings.Contains(err.Error(), "field timout not found") {
		t.Fatalf("SelectSpecs of two bad specs: %v, want both errors", err)
	}
}
