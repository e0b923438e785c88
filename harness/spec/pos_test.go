package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every error is placed at the node that is wrong: the key, or the list
// item holding the pattern, never the first line of its step. Each case's
// mistake is on a line below its step's first.
func TestErrorPlace(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		line, col int
		want      string
	}{
		{"third log pattern", `name: x
steps:
  - insmod: m
    log:
      - '^a$'
      - '^b$'
      - '(unclosed'
`, 7, 9, `log pattern "(unclosed" is not a valid regular expression`},
		{"log pattern of a later step", `name: x
steps:
  - insmod: m
  - rmmod: m
    timeout: 5s
    log: ['^bye$', '[z-a]']
`, 6, 20, `log pattern "[z-a]" is not a valid regular expression`},
		{"match key of the mapping form", `name: x
steps:
  - insmod: m
    log:
      - match: '^a$'
      - level: info
        match: '(?P<x'
`, 7, 9, `log pattern "(?P<x" is not a valid regular expression`},
		{"bad capture name", `name: x
steps:
  - insmod: m
    log:
      - '^a$'
      - '^pid=(?P<p-id>[0-9]+)$'
`, 6, 9, `log pattern "^pid=(?P<p-id>[0-9]+)$" is not a valid regular expression`},
		{"level key", `name: x
steps:
  - insmod: m
    log:
      - match: '^a$'
        level: loud
`, 6, 9, `log level "loud"`},
		{"count key", `name: x
steps:
  - insmod: m
    log:
      - match: '^a$'
        count: -1
`, 6, 9, "log count -1"},
		{"log_any item", `name: x
steps:
  - insmod: m
    log_any:
      - '^a$'
      - '^(b$'
`, 6, 9, `log_any pattern "^(b$" is not a valid regular expression`},
		{"log_absent item", `name: x
steps:
  - insmod: m
    log_absent:
      - leak
      - '*oops'
`, 6, 9, `log_absent pattern "*oops" is not a valid regular expression`},
		{"empty match", `name: x
steps:
  - insmod: m
    log:
      - count: 2
`, 5, 9, "a log expectation needs a pattern"},
		{"uncaptured ${name} in a log pattern", `name: x
steps:
  - insmod: m
    log:
      - '^pid=(?P<pid>[0-9]+)$'
      - '^addr ${addr}$'
`, 6, 9, `log pattern "^addr ${addr}$" uses ${addr}, which no earlier pattern captures (with (?P<addr>...) in log, log_any, wait_log, stdout or content); captured before it: ${pid}`},
		{"${name} in a log_absent pattern", `name: x
steps:
  - insmod: m
    log_absent:
      - '^${nope}$'
`, 5, 9, `log_absent pattern "^${nope}$" uses ${nope}`},
		{"${name} in a run argument", `name: x
steps:
  - run:
      - kill
      - '-9'
      - '${victim}'
`, 6, 9, `run "${victim}" uses ${victim}`},
		{"${name} in a shell command", `name: x
steps:
  - insmod: m
  - timeout: 5s
    run: 'kill ${victim}'
`, 5, 5, `run "kill ${victim}" uses ${victim}`},
		{"${name} in params", `name: x
steps:
  - insmod: m
    timeout: 5s
    params: 'a=${a}'
`, 5, 5, `params "a=${a}" uses ${a}`},
		{"stdout pattern", `name: x
steps:
  - run: [cat, /proc/modules]
    exit: 0
    stdout: '(m'
`, 5, 5, `stdout: "(m" is not a valid regular expression`},
		{"content pattern", `name: x
steps:
  - read: /proc/modules
    content: '[z-a]'
`, 4, 5, `content: "[z-a]" is not a valid regular expression`},
		{"unknown errno", `name: x
steps:
  - insmod: m
    params: a=1
    expect: ENOSUCH
`, 5, 5, "expect: ENOSUCH is not a Linux errno name"},
		{"errno of two names", `name: x
steps:
  - insmod: m
    expect: EWOULDBLOCK
`, 4, 5, "expect: EWOULDBLOCK is EAGAIN on Linux"},
		{"unknown signal expected", `name: x
steps:
  - run: [sleep, '1']
    expect: SIGFOO
`, 4, 5, "expect: SIGFOO is not a Linux signal"},
		{"unknown signal sent", `name: x
steps:
  - run: [sleep, '9']
    background: s
  - signal: s
    send: SIGNOPE
`, 6, 5, "send: SIGNOPE is not a Linux signal"},
		{"second kind of a step", `name: x
steps:
  - insmod: m
    read: /proc/x
`, 4, 5, "a step does one thing: it has insmod and read"},
		{"key for another kind", `name: x
steps:
  - rmmod: m
    params: a=1
`, 4, 5, "params: only for insmod steps"},
		{"exit of a background run", `name: x
steps:
  - run: [sleep, '9']
    background: s
    exit: 0
`, 5, 5, "a background run has no exit status yet"},
		{"exit and expect", `name: x
steps:
  - run: [sleep, '9']
    exit: 1
    expect: ENOENT
`, 5, 5, "give exit or expect, not both"},
		{"unknown model", `name: x
steps:
  - insmod: m
    model:
      name: crystal-ball
`, 5, 7, `model "crystal-ball"`},
		{"model parameter", `name: x
steps:
  - insmod: m
    model:
      name: kmalloc-wastage
      stepsz: lots
`, 6, 15, `model parameter stepsz: "lots" is not an integer`},
		{"step timeout", `name: x
steps:
  - insmod: m
    timeout: soon
`, 4, 14, `invalid duration "soon"`},
		{"allow match", `name: x
allow:
  - kind: WARNING
    match: '(x'
steps:
  - insmod: m
`, 4, 5, `allow.match "(x" is not a valid regular expression`},
		{"allow kind", `name: x
allow:
  - match: x
    kind: EXPLOSION
steps:
  - insmod: m
`, 4, 5, `allow.kind "EXPLOSION"`},
		{"requires arch item", `name: x
requires:
  arch:
    - x86_64
    - sparc
steps:
  - insmod: m
`, 5, 7, `requires.arch "sparc"`},
		{"requires memory", `name: x
requires:
  cpus: 1
  memory: -5
steps:
  - insmod: m
`, 4, 3, "requires.memory -5 cannot be negative"},
		{"unknown step key", `name: x
steps:
  - insmod: m
    timeout: 5s
    exepct: ENOMEM
`, 5, 5, "field exepct not found (valid: assert, background, content, data, exit, expect, insmod, ktap, log, log_absent, log_any, model, params, read, rmmod, run, send, signal, sleep, stdout, timeout, wait, wait_log, write)"},
		{"unknown expectation key", `name: x
steps:
  - insmod: m
    log:
      - match: '^a$'
        levle: info
`, 6, 9, "field levle not found (valid: count, level, match)"},
		{"unknown boot key", `name: x
boot:
  cpus: 1
  memroy: 128
steps:
  - insmod: m
`, 4, 3, "field memroy not found (valid: cmdline, config, cpus, fresh, memory)"},
		{"unknown allow key", `name: x
allow:
  - kind: WARNING
    matches: x
steps:
  - insmod: m
`, 4, 5, "field matches not found (valid: kind, match)"},
		{"unknown requires key", `name: x
requires:
  kernel: '>=6.1'
  arhc: [x86_64]
steps:
  - insmod: m
`, 4, 3, "field arhc not found (valid: arch, config, cpus, kernel, memory)"},
		{"unknown key in a merged mapping", `name: x
defaults: &d
  timeout: 5s
steps:
  - <<: *d
    insmod: m
`, 2, 1, "field defaults not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSpec(t, c.text)
			_, err := Load(p)
			if err == nil {
				t.Fatalf("accepted; want %s:%d: %s", p, c.line, c.want)
			}
			if want := fmt.Sprintf("%s:%d: ", p, c.line); !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q\nwant %q...%q", err, want, c.want)
			}
			var se *Error
			if !errors.As(err, &se) || se.Line != c.line || se.Column != c.col {
				t.Errorf("error at %d:%d, want %d:%d", se.Line, se.Column, c.line, c.col)
			}
			if strings.Contains(err.Error(), "spec.") || strings.Contains(err.Error(), "in type") {
				t.Errorf("error names a Go type: %q", err)
			}
		})
	}
}

// Every mistake of a spec is reported at once, each at its own line, in
// the order of the file.
func TestEveryErrorPlaced(t *testing.T) {
	p := writeSpec(t, `name: x
taint: [Q]
steps:
  - insmod: m
    log:
      - '^ok$'
      - '('
    expect: nomem
  - rmmod: m
    log_absent: ['[z-a]']
`)
	_, err := Load(p)
	if err == nil {
		t.Fatal("accepted")
	}
	var got []string
	for _, l := range strings.Split(err.Error(), "\n") {
		got = append(got, strings.SplitN(strings.TrimPrefix(l, p+":"), " ", 2)[0])
	}
	if want := "2:|7:|8:|10:"; strings.Join(got, "|") != want {
		t.Errorf("errors at %s, want %s:\n%v", strings.Join(got, "|"), want, err)
	}
}

// A key the decoder refuses by its type says what it wants in the spec's
// words, with no Go type.
func TestTypeErrorWords(t *testing.T) {
	for _, c := range []struct {
		text string
		line int
		want string
	}{
		{"name: x\nsteps: 3\n", 2, "want a list"},
		{"name: x\nsteps:\n  - insmod: m\n  - [rmmod, m]\n", 4, "want a step (a mapping such as insmod: NAME)"},
		{"name: x\nsteps:\n  - insmod: m\n    log:\n      - [a, b]\n", 5, "want a pattern, or a mapping such as {match: REGEX, level: info}"},
		{"name: x\nboot:\n  memory: lots\nsteps:\n  - insmod: m\n", 3, "want an integer"},
		{"name: x\nboot: 256\nsteps:\n  - insmod: m\n", 2, "want a mapping"},
		{"name: x\nsteps:\n  - run: [true]\n    exit: zero\n", 4, "want an integer"},
	} {
		p := writeSpec(t, c.text)
		_, err := Load(p)
		if prefix := fmt.Sprintf("%s:%d: cannot unmarshal", p, c.line); err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v\nwant %q...%q", c.text, err, prefix, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "spec.") {
			t.Errorf("%q: error names a Go type: %v", c.text, err)
		}
	}
}

// Find reports every malformed spec under its root in one go.
func TestFindReportsEveryBadSpec(t *testing.T) {
	root := t.TempDir()
	for name, text := range map[string]string{
		"good": "name: good\nsteps:\n  - insmod: m\n",
		"a":    "name: a\nsteps:\n  - insmod: m\n    log:\n      - '('\n",
		"b":    "name: b\nsteps:\n  - insmod: m\n    expect: ENOSUCH\n",
	} {
		os.MkdirAll(filepath.Join(root, name), 0o755)
		os.WriteFile(filepath.Join(root, name, FileName), []byte(text), 0o644)
	}
	_, err := Find(root)
	if err == nil {
		t.Fatal("Find accepted two bad specs")
	}
	for _, want := range []string{filepath.Join(root, "a", FileName) + ":5: log pattern", filepath.Join(root, "b", FileName) + ":4: expect: ENOSUCH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Find error lacks %q:\n%v", want, err)
		}
	}
}
