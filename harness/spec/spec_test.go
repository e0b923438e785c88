package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	p := writeSpec(t, `name: hello
description: says hello
steps:
  - insmod: helloworld_lkm
    log:
      - '^Hello, world$'
  - rmmod: helloworld_lkm
    expect: ok
    timeout: 5s
`)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "hello" || len(s.Steps) != 2 {
		t.Fatalf("got name %q with %d steps", s.Name, len(s.Steps))
	}
	st := s.Steps[0]
	if st.Kind() != StepInsmod || st.Module() != "helloworld_lkm" || st.Expect != "ok" || st.Line != 4 {
		t.Errorf("step 1 = %+v", st)
	}
	if st.Timeout.Std() != 30*time.Second || s.Steps[1].Timeout.Std() != 5*time.Second {
		t.Errorf("timeouts = %v, %v; want 30s (default) and 5s", st.Timeout.Std(), s.Steps[1].Timeout.Std())
	}
	if len(st.Patterns) != 1 || !st.Patterns[0].MatchString("Hello, world") {
		t.Errorf("patterns = %v", st.Patterns)
	}
	if s.Boot.Memory != 256 || s.Boot.CPUs != 1 || s.Modules[0] != "." {
		t.Errorf("defaults: boot %+v modules %v", s.Boot, s.Modules)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"unknown key", "name: x\nstep:\n  - insmod: m\n", ":2: field step not found"},
		{"unknown step key", "name: x\nsteps:\n  - insmod: m\n    parms: a=1\n", ":4: field parms not found"},
		{"wrong type", "name: x\nsteps: 3\n", ":2: cannot unmarshal"},
		{"bad regex", "name: x\nsteps:\n  - insmod: m\n    log: ['(']\n", ":3: log pattern \"(\" is not a valid regular expression"},
		{"bad errno", "name: x\nsteps:\n  - insmod: m\n    expect: nomem\n", ":3: expect: \"nomem\" is neither ok nor an errno name"},
		{"both ops", "name: x\nsteps:\n  - insmod: m\n    rmmod: m\n", ":3: a step does one thing"},
		{"empty step", "name: x\nsteps:\n  - params: a=1\n", ":3: step 1 does nothing"},
		{"no name", "steps:\n  - insmod: m\n", ": missing name"},
		{"no steps", "name: x\n", ": no steps"},
		{"bad duration", "name: x\ntimeout: soon\nsteps:\n  - insmod: m\n", ":2: invalid duration \"soon\""},
		{"missing module dir", "name: x\nmodules: [nothere]\nsteps:\n  - insmod: m\n", "module directory \"nothere\" does not exist"},
		{"syntax", "name: x\nsteps: [\n", ":2: did not find expected node content"},
		{"empty", "", "empty spec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSpec(t, c.text)
			_, err := Load(p)
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), p) {
				t.Errorf("error = %q, want it to start with %s and contain %q", err, p, c.want)
			}
		})
	}
}

func TestFindDuplicate(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, FileName), []byte("name: same\nsteps:\n  - insmod: m\n"), 0o644)
	}
	if _, err := Find(root); err == nil || !strings.Contains(err.Error(), "duplicate test name \"same\"") {
		t.Errorf("Find error = %v, want duplicate name", err)
	}
}
