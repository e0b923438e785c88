package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func mkfile(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The tree root defaults to where the modules' files reach with "../",
// and root: overrides it.
func TestTreeRoot(t *testing.T) {
	repo := t.TempDir()
	mkfile(t, repo, "convenient.h", "")
	mkfile(t, repo, "ch5/mod/mod.c", `#include "../../convenient.h"`+"\n")
	mkfile(t, repo, "ch5/mod/Makefile", "obj-m += mod.o\nmod-objs := main.o ../../klib.o\n")
	mkfile(t, repo, "ch5/plain/plain.c", "/* no relative paths: 1..4, a...b */\n")
	mkfile(t, repo, "ch5/plain/Kbuild", "obj-m += plain.o\n")
	mkfile(t, repo, "ch5/sub/sub/Kbuild", "ccflags-y += -I$(src)/../include\n")
	mkfile(t, repo, "ch5/sub/Kbuild", "obj-m += sub/\n")
	for _, tc := range []struct {
		dir, yaml, want string
	}{
		{"ch5/mod", "", "."},
		{"ch5/plain", "", "ch5/plain"},
		{"ch5/sub", "", "ch5/sub"},
		{"ch5/plain", "modules: [., ../mod]\n", "."},
		{"ch5/plain", "modules: [., ../sub]\n", "ch5"},
		{"ch5/plain", "root: ..\n", "ch5"},
	} {
		s, err := Parse(filepath.Join(repo, tc.dir, FileName), []byte("name: x\n"+tc.yaml+"steps:\n  - insmod: m\n"))
		if err != nil {
			t.Fatalf("%s %q: %v", tc.dir, tc.yaml, err)
		}
		got, err := s.TreeRoot()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(repo, tc.want); got != want {
			t.Errorf("%s %q: TreeRoot = %s, want %s", tc.dir, tc.yaml, got, want)
		}
	}
}

// A "../" climbing out of the enclosing git work tree stops at its top.
func TestTreeRootStopsAtGitTop(t *testing.T) {
	home := t.TempDir()
	repo := filepath.Join(home, "src", "repo")
	mkfile(t, repo, ".git/HEAD", "ref: refs/heads/main\n")
	mkfile(t, repo, "drv/drv.c", "/* see ../../../../../../../../docs/x.txt */\n")
	mkfile(t, repo, "drv/Kbuild", "obj-m += drv.o\n")
	s, err := Parse(filepath.Join(repo, "drv", FileName), []byte("name: x\nsteps:\n  - insmod: drv\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TreeRoot(); got != repo {
		t.Errorf("TreeRoot = %s, want the git top %s", got, repo)
	}
}

func TestBadRoot(t *testing.T) {
	repo := t.TempDir()
	mkfile(t, repo, "a/mod/Kbuild", "obj-m += m.o\n")
	mkfile(t, repo, "a/file", "")
	mkfile(t, repo, "b/other/Kbuild", "obj-m += o.o\n")
	for _, tc := range []struct{ yaml, want string }{
		{"root: ../nope\n", `:2: root "../nope" does not exist`},
		{"root: ../file\n", `:2: root "../file" is a file, not a directory`},
		{"root: /abs\n", `:2: root "/abs" must be relative to the spec`},
		{"modules: [., ../../b/other]\nroot: ..\n", `:3: root ".." does not contain the module directory "../../b/other"`},
		{"modules: [../file]\n", `:2: module directory "../file" is a file`},
	} {
		_, err := Parse(filepath.Join(repo, "a", "mod", FileName), []byte("name: x\n"+tc.yaml+"steps:\n  - insmod: m\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSmokeYAML(t *testing.T) {
	dir := t.TempDir()
	mkfile(t, dir, "Kbuild", "obj-m += a.o b.o\n")
	p, err := SpecLess(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, text, err := Smoke(p, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Steps {
		got = append(got, st.String())
	}
	if strings.Join(got, ", ") != "insmod b, insmod a, rmmod a, rmmod b" || !s.SpecLess {
		t.Errorf("smoke steps = %v (spec-less %v)\n%s", got, s.SpecLess, text)
	}
	// With a run's log lines, each becomes an exact pattern that parses.
	y := SmokeYAML("x", "header", []string{"a"}, [][]string{{"it's (1+1) = 2 [ok]"}, nil})
	s, err = Parse(filepath.Join(dir, FileName), y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if len(s.Steps[0].Log) != 1 || !regexp.MustCompile(s.Steps[0].Log[0].Match).MatchString("it's (1+1) = 2 [ok]") {
		t.Errorf("the written pattern does not match its line:\n%s", y)
	}
	// Control characters, line separators and bytes that are not UTF-8
	// still give a spec that parses and matches its line.
	for _, line := range []string{"esc \x1b[1m bold", "tab\there", "bad \xff byte", "sep\u2028x", "cr\rx", "# not a comment: yes"} {
		y := SmokeYAML("x", "h", []string{"a"}, [][]string{{line}})
		s, err := Parse(filepath.Join(dir, FileName), y)
		if err != nil {
			t.Errorf("line %q: %v\n%s", line, err, y)
			continue
		}
		if !regexp.MustCompile(s.Steps[0].Log[0].Match).MatchString(line) {
			t.Errorf("line %q: pattern %q does not match it", line, s.Steps[0].Log[0].Match)
		}
	}
	if _, err := SpecLess(filepath.Join(dir, "Kbuild")); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("SpecLess of a file: %v", err)
	}
	if _, err := SpecLess(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no Kbuild or Makefile") {
		t.Errorf("SpecLess of an empty directory: %v", err)
	}
}

// An unknown key's error lists the keys valid at that place and names no
// Go type.
func TestUnknownKeyListsValidKeys(t *testing.T) {
	_, err := Parse("t.yaml", []byte("name: x\ntimout: 3s\nboot: {memroy: 1}\nrequires: {arhc: [x86_64]}\nsteps:\n  - insmod: m\n"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"t.yaml:2: field timout not found (valid: allow, boot, chapter,",
		"t.yaml:3: field memroy not found (valid: cmdline, config, cpus, fresh, memory)",
		"t.yaml:4: field arhc not found (valid: arch,",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "spec.") {
		t.Errorf("error names a Go type:\n%s", msg)
	}
}

// errno and signal names the guest can never report are refused where
// they are written, an errno's second name with the first.
func TestUnknownErrnoAndSignal(t *testing.T) {
	for _, tc := range []struct{ step, want string }{
		{"  - insmod: m\n    expect: ENOSUCH\n", ":4: expect: ENOSUCH is not a Linux errno name"},
		{"  - insmod: m\n    expect: EWOULDBLOCK\n", ":4: expect: EWOULDBLOCK is EAGAIN on Linux, and the guest reports it so: write expect: EAGAIN"},
		{"  - run: [sleep, '1']\n    expect: SIGFOO\n", ":4: expect: SIGFOO is not a Linux signal"},
		{"  - run: [sleep, '9']\n    background: s\n  - signal: s\n    send: SIGNOPE\n", ":6: send: SIGNOPE is not a Linux signal"},
	} {
		_, err := Parse("t.yaml", []byte("name: x\nsteps:\n"+tc.step))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.step, err, tc.want)
		}
	}
	for _, ok := range []string{"EAGAIN", "ENOMEM", "EPERM", "ENOEXEC", "ENOTSUP"} {
		if _, err := Parse("t.yaml", []byte("name: x\nsteps:\n  - insmod: m\n    expect: "+ok+"\n")); err != nil {
			t.Errorf("expect: %s refused: %v", ok, err)
		}
	}
}
