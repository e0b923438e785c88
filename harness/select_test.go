package harness

import (
	"os"
	"path/filepath"
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
