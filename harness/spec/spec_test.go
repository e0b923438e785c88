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
	if re, err := st.Log[0].Regexp(nil); len(st.Log) != 1 || err != nil || !re.MatchString("Hello, world") || st.Log[0].LevelNum != -1 {
		t.Errorf("log = %+v (%v)", st.Log, err)
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
		{"bad regex", "name: x\nsteps:\n  - insmod: m\n    log: ['(']\n", ":4: log pattern \"(\" is not a valid regular expression"},
		{"bad errno", "name: x\nsteps:\n  - insmod: m\n    expect: nomem\n", ":4: expect: \"nomem\" is neither ok, an errno name"},
		{"both ops", "name: x\nsteps:\n  - insmod: m\n    rmmod: m\n", ":4: a step does one thing"},
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

func TestLoadRich(t *testing.T) {
	p := writeSpec(t, `name: rich
requires:
  config: [CONFIG_DEBUG_ATOMIC_SLEEP, CONFIG_HZ=250]
  arch: [x86_64]
  kernel: ">=5.12 <6.13"
allow:
  - kind: warning
    match: crashers_warn
taint: [W]
boot:
  fresh: true
steps:
  - insmod: m
    log:
      - '^pid=(?P<pid>[0-9]+)$'
      - {match: '^again ${pid}$', level: warn, count: 1}
    log_any: ['^x$']
    log_absent: ['leak']
  - rmmod: m
    expect: SIGKILL
    log: ['^bye ${pid}$']
`)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if e := s.Steps[0].Log[1]; e.LevelNum != 4 || e.Count != 1 {
		t.Errorf("log[1] = %+v, want level 4 (warning), count 1", e)
	}
	re, err := s.Steps[1].Log[0].Regexp(map[string]string{"pid": "4.2"})
	if err != nil || re.String() != `^bye 4\.2$` {
		t.Errorf("substituted = %v, %v", re, err)
	}
	if _, err := s.Steps[1].Log[0].Regexp(nil); err == nil {
		t.Error("an unset ${pid} compiled")
	}
	host := Host{Arch: "x86_64", Kernel: "6.1.192", CPUs: 2, Config: func(n string) string {
		return map[string]string{"CONFIG_DEBUG_ATOMIC_SLEEP": "y", "CONFIG_HZ": "250"}[n]
	}}
	if why := s.Requires.Unmet(host); why != "" {
		t.Errorf("Unmet = %q on a matching host", why)
	}
	for _, c := range []struct {
		change func(h *Host)
		want   string
	}{
		{func(h *Host) { h.Arch = "arm64" }, "runs only on x86_64"},
		{func(h *Host) { h.Kernel = "5.10.233" }, "needs kernel >=5.12 <6.13 (this is 5.10.233)"},
		{func(h *Host) { h.Kernel = "6.13" }, "needs kernel"},
		{func(h *Host) { h.Config = func(string) string { return "n" } }, "needs CONFIG_DEBUG_ATOMIC_SLEEP (not set"},
	} {
		h := host
		c.change(&h)
		if why := s.Requires.Unmet(h); !strings.Contains(why, c.want) {
			t.Errorf("Unmet = %q, want %q", why, c.want)
		}
	}
}

func TestLoadRichErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"unknown capture", "name: x\nsteps:\n  - insmod: m\n    log: ['${pid}']\n", "uses ${pid}, which no earlier pattern captures"},
		{"bad level", "name: x\nsteps:\n  - insmod: m\n    log: [{match: a, level: loud}]\n", `log level "loud"`},
		{"unknown log key", "name: x\nsteps:\n  - insmod: m\n    log: [{match: a, levle: info}]\n", ":4: field levle not found"},
		{"bad allow kind", "name: x\nallow: [{kind: EXPLOSION}]\nsteps:\n  - insmod: m\n", `allow.kind "EXPLOSION"`},
		{"bad taint", "name: x\ntaint: [Q]\nsteps:\n  - insmod: m\n", `taint "Q"`},
		{"bad kernel range", "name: x\nrequires: {kernel: 'newer than 5'}\nsteps:\n  - insmod: m\n", "requires.kernel"},
		{"bad config", "name: x\nrequires: {config: [DEBUG_LIST]}\nsteps:\n  - insmod: m\n", `requires.config "DEBUG_LIST"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeSpec(t, c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}

func TestLoadStepKinds(t *testing.T) {
	p := writeSpec(t, `name: steps
steps:
  - run: 'echo hi'
  - run: [sleep, "9"]
    background: s
  - signal: s
  - wait: s
    expect: SIGTERM
  - write: /proc/sys/kernel/printk
    data: "7"
  - read: /proc/sys/kernel/printk
    content: '^7'
  - sleep: 1s
`)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Steps {
		got = append(got, st.String())
	}
	want := "run echo hi|run sleep 9 &s|signal s SIGTERM|wait s|write \"7\" > /proc/sys/kernel/printk|read /proc/sys/kernel/printk|sleep 1s"
	if strings.Join(got, "|") != want {
		t.Errorf("steps = %q, want %q", strings.Join(got, "|"), want)
	}
	cases := []struct{ name, text, want string }{
		{"two actions", "name: x\nsteps:\n  - insmod: m\n    read: /x\n", "a step does one thing: it has insmod and read"},
		{"wait for nothing", "name: x\nsteps:\n  - wait: w\n", `no earlier step runs a program in the background as "w"`},
		{"params on run", "name: x\nsteps:\n  - run: [x]\n    params: a=1\n", "params: only for insmod steps"},
		{"exit on background", "name: x\nsteps:\n  - run: [x]\n    background: b\n    exit: 1\n", "a background run has no exit status yet"},
		{"bad send", "name: x\nsteps:\n  - run: [x]\n    background: b\n  - signal: b\n    send: kill\n", `send: "kill" is not a signal name`},
		{"bad content", "name: x\nsteps:\n  - read: /x\n    content: '('\n", `content: "(" is not a valid regular expression`},
		{"exit and expect", "name: x\nsteps:\n  - run: [x]\n    exit: 1\n    expect: SIGKILL\n", "give exit or expect, not both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeSpec(t, c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
		})
	}
}

// ${name} follows one rule in every field: a value captured by an earlier
// step (and, in log patterns, by an earlier pattern of the same step); $${
// is a literal ${.
func TestCaptureRule(t *testing.T) {
	p := writeSpec(t, `name: captures
steps:
  - insmod: m
    log:
      - '^addr=(?P<addr>[0-9a-f]+)$'
      - '^again ${addr}$'
    log_any: ['^pid=(?P<pid>[0-9]+)$']
    log_absent: ['^bad ${pid}$']
  - insmod: n
    params: 'func_ptr=0x${addr} literal=$${addr}'
  - run: [kill, '-0', '${pid}']
    stdout: '^${pid}$'
  - run: 'for t in /proc/[0-9]*; do echo ${t##*/} $$; done; echo $${HOME}'
  - write: '/proc/${pid}/comm'
    data: '${addr}'
  - read: '/proc/${pid}/status'
    content: '^Pid:\s+${pid}$'
`)
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps[1].Params != "func_ptr=0x${addr} literal=$${addr}" {
		t.Errorf("params are kept as written: %q", s.Steps[1].Params)
	}
	vars := map[string]string{"addr": "ffff", "pid": "42"}
	for _, c := range []struct{ in, want string }{
		{s.Steps[1].Params, "func_ptr=0xffff literal=${addr}"},
		{s.Steps[3].Run[2], "for t in /proc/[0-9]*; do echo ${t##*/} $$; done; echo ${HOME}"},
		{"$$${pid}", "$${pid}"},
		{"${pid}${addr}", "42ffff"},
		{"${ pid} ${1x} ${", "${ pid} ${1x} ${"},
	} {
		if got, err := Expand(c.in, vars); err != nil || got != c.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := Expand("a=${nope}", vars); err == nil || !strings.Contains(err.Error(), "${nope}") {
		t.Errorf("Expand of an unknown name: %v", err)
	}
	re, err := (&LogExpect{Match: `^\$${pid} is ${pid}$`}).Regexp(vars)
	if err != nil || !re.MatchString("${pid} is 42") || re.MatchString("42 is 42") {
		t.Errorf("escaped pattern = %v, %v", re, err)
	}
	if got := Refs("a ${x} $${y} ${z}"); strings.Join(got, ",") != "x,z" {
		t.Errorf("Refs = %q", got)
	}
}
