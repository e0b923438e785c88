package spec

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestMalformedSpecs is the fault matrix's row of bad specs: each one is
// refused with "file:line: message", the line being where the mistake is.
func TestMalformedSpecs(t *testing.T) {
	const ok = "name: x\nsteps:\n  - insmod: m\n"
	cases := []struct {
		name, text string
		line       int
		want       string
	}{
		{"unknown top-level key", "name: x\nstep:\n  - insmod: m\n", 2, "field step not found"},
		{"unknown step key", "name: x\nsteps:\n  - insmod: m\n    parms: a=1\n", 4, "field parms not found"},
		{"unknown boot key", "name: x\nboot: {memroy: 128}\nsteps:\n  - insmod: m\n", 2, "field memroy not found"},
		{"steps not a list", "name: x\nsteps: 3\n", 2, "cannot unmarshal"},
		{"name not a string", "name: [a]\nsteps:\n  - insmod: m\n", 1, "cannot unmarshal"},
		{"memory not a number", "name: x\nboot:\n  memory: lots\nsteps:\n  - insmod: m\n", 3, "cannot unmarshal"},
		{"yaml syntax", "name: x\nsteps: [\n", 2, "did not find expected node content"},
		{"tab indentation", "name: x\nsteps:\n\t- insmod: m\n", 3, "found character that cannot start any token"},
		{"empty file", "", 1, "empty spec"},
		{"missing name", "steps:\n  - insmod: m\n", 1, "missing name"},
		{"invalid name", "steps:\n  - insmod: m\nname: Hello World\n", 3, `invalid name "Hello World"`},
		{"no steps", "name: x\nsteps: []\n", 2, "no steps"},
		{"bad regex", "name: x\nsteps:\n  - insmod: m\n    log: ['(']\n", 4, `log pattern "(" is not a valid regular expression`},
		{"bad stdout regex", "name: x\nsteps:\n  - run: [true]\n    stdout: '[z-a]'\n", 4, `stdout: "[z-a]" is not a valid regular expression`},
		{"unknown errno", "name: x\nsteps:\n  - insmod: m\n    expect: nomem\n", 4, `expect: "nomem" is neither ok`},
		{"two operations", "name: x\nsteps:\n  - insmod: m\n    rmmod: m\n", 4, "a step does one thing"},
		{"step does nothing", "name: x\nsteps:\n  - insmod: m\n  - params: a=1\n", 4, "step 2 does nothing"},
		{"bad module name", "name: x\nsteps:\n  - insmod: ../evil\n", 3, `invalid module name "../evil"`},
		{"params on rmmod", "name: x\nsteps:\n  - rmmod: m\n    params: a=1\n", 4, "params: only for insmod steps"},
		{"empty program", "name: x\nsteps:\n  - run: ['']\n", 3, "run: the program is empty"},
		{"bad signal name", "name: x\nsteps:\n  - run: [sleep, '9']\n    background: s\n  - signal: s\n    send: USR1\n", 6, `send: "USR1" is not a signal name`},
		{"signal unknown handle", "name: x\nsteps:\n  - signal: nobody\n", 3, `no earlier step runs a program in the background as "nobody"`},
		{"wait before run", "name: x\nsteps:\n  - wait: w\n  - run: [true]\n    background: w\n", 3, `as "w"`},
		{"exit on background run", "name: x\nsteps:\n  - run: [true]\n    background: b\n    exit: 0\n", 5, "a background run has no exit status yet"},
		{"exit and expect", "name: x\nsteps:\n  - run: [true]\n    exit: 1\n    expect: ENOENT\n", 5, "give exit or expect, not both"},
		{"capture used before defined", "name: x\nsteps:\n  - insmod: m\n    log: ['pid ${pid}']\n", 4, "uses ${pid}, which no earlier pattern captures"},
		{"capture in program undefined", "name: x\nsteps:\n  - run: [kill, '${victim}']\n", 3, "${victim}"},
		{"capture cycle (defines itself)", "name: x\nsteps:\n  - insmod: m\n    log: ['(?P<a>${a})']\n", 4, "uses ${a}, which no earlier pattern captures"},
		{"capture in params undefined", "name: x\nsteps:\n  - insmod: m\n    params: 'func_ptr=0x${addr}'\n", 4,
			`params "func_ptr=0x${addr}" uses ${addr}, which no pattern of an earlier step captures (with (?P<addr>...) in log, log_any, wait_log, stdout or content); nothing is captured before it`},
		{"params uses its own step's capture", "name: x\nsteps:\n  - insmod: m\n    log: ['^pid=(?P<pid>[0-9]+)$']\n  - insmod: n\n    params: 'a=${addr}'\n    log: ['^addr=(?P<addr>[0-9a-f]+)$']\n", 6,
			`params "a=${addr}" uses ${addr}, which no pattern of an earlier step captures (with (?P<addr>...) in log, log_any, wait_log, stdout or content); captured before it: ${pid}`},
		{"capture in write path undefined", "name: x\nsteps:\n  - write: '/sys/module/${mod}/parameters/x'\n    data: '1'\n", 3, `write "/sys/module/${mod}/parameters/x" uses ${mod}`},
		{"capture in write data undefined", "name: x\nsteps:\n  - write: /proc/x\n    data: '${v}'\n", 4, `data "${v}" uses ${v}`},
		{"capture in read path undefined", "name: x\nsteps:\n  - insmod: m\n    log: ['(?P<a>.)']\n  - read: '/proc/${p}/status'\n", 5, `read "/proc/${p}/status" uses ${p}, which no pattern of an earlier step captures (with (?P<p>...) in log, log_any, wait_log, stdout or content); captured before it: ${a}`},
		{"capture in stdout undefined", "name: x\nsteps:\n  - run: [true]\n    stdout: '^${out}$'\n", 4, `stdout "^${out}$" uses ${out}`},
		{"capture in content undefined", "name: x\nsteps:\n  - read: /proc/x\n    content: '^${v}$'\n", 4, `content "^${v}$" uses ${v}`},
		{"capture in log_any undefined", "name: x\nsteps:\n  - insmod: m\n    log_any: ['^${v}$']\n", 4, `log_any pattern "^${v}$" uses ${v}, which no earlier pattern captures`},
		{"log_absent captures nothing", "name: x\nsteps:\n  - insmod: m\n    log_absent: ['^leak (?P<x>[0-9]+)$']\n  - rmmod: m\n    log: ['^${x}$']\n", 6, `log pattern "^${x}$" uses ${x}, which no earlier pattern captures (with (?P<x>...) in log, log_any, wait_log, stdout or content); nothing is captured before it`},
		{"bad assert", "name: x\nsteps:\n  - insmod: m\n  - assert: '1 <'\n", 4, `assert "1 <", at column 4: the expression ends where a number or ${name} should be`},
		{"assert of a number", "name: x\nsteps:\n  - insmod: m\n  - assert: '3'\n", 4, `"3" is a number, not a condition`},
		{"assert uncaptured", "name: x\nsteps:\n  - run: [true]\n    stdout: '(?P<a>.*)'\n  - assert: '${a} < ${b}'\n", 5, `assert "${a} < ${b}" uses ${b}, which no pattern of an earlier step captures`},
		{"bad wait_log regex", "name: x\nsteps:\n  - wait_log: '('\n", 3, `wait_log: "(" is not a valid regular expression`},
		{"wait_log uncaptured", "name: x\nsteps:\n  - wait_log: '^${n}$'\n", 3, `wait_log "^${n}$" uses ${n}`},
		{"stdout of a background run", "name: x\nsteps:\n  - run: [true]\n    background: b\n    stdout: '(?P<a>.)'\n", 5, "a background run has no exit status yet"},
		{"bad log level", "name: x\nsteps:\n  - insmod: m\n    log: [{match: a, level: loud}]\n", 4, `log level "loud"`},
		{"unknown model", "name: x\nsteps:\n  - insmod: m\n    model: {name: crystal-ball}\n", 4, `model "crystal-ball"`},
		{"bad duration", "name: x\ntimeout: soon\nsteps:\n  - insmod: m\n", 2, `invalid duration "soon"`},
		{"missing module directory", "name: x\nmodules:\n  - .\n  - nothere\nsteps:\n  - insmod: m\n", 4, `module directory "nothere" does not exist`},
		{"absolute module directory", "name: x\nmodules: [/etc]\nsteps:\n  - insmod: m\n", 2, "must be relative to the spec"},
		{"helper not C", "name: x\nhelpers:\n  - tool.sh\nsteps:\n  - insmod: m\n", 3, `helper "tool.sh": give a C file`},
		{"missing helper", "name: x\nhelpers: [gone.c]\nsteps:\n  - insmod: m\n", 2, `helper "gone.c" does not exist`},
		{"missing boot.config", "name: x\nboot:\n  config: nothere.config\nsteps:\n  - insmod: m\n", 3, `boot.config "nothere.config" does not exist`},
		{"boot memory too small", "name: x\nboot:\n  cpus: 1\n  memory: 16\nsteps:\n  - insmod: m\n", 4, "boot.memory 16 MiB is too small"},
		{"boot cpus out of range", "name: x\nboot:\n  cpus: 1000\nsteps:\n  - insmod: m\n", 3, "boot.cpus 1000 is out of range"},
		{"bad allow kind", "name: x\nallow:\n  - kind: WARNING\n  - kind: EXPLOSION\nsteps:\n  - insmod: m\n", 4, `allow.kind "EXPLOSION"`},
		{"bad taint letter", "name: x\ntaint: [W, Q]\nsteps:\n  - insmod: m\n", 2, `taint "Q"`},
		{"bad kernel range", "name: x\nrequires:\n  arch: [x86_64]\n  kernel: 'newer than 5'\nsteps:\n  - insmod: m\n", 4, "requires.kernel"},
		{"bad config requirement", "name: x\nrequires:\n  config: [DEBUG_LIST]\nsteps:\n  - insmod: m\n", 3, `requires.config "DEBUG_LIST"`},
		{"bad arch requirement", "name: x\nrequires:\n  arch: [sparc]\nsteps:\n  - insmod: m\n", 3, `requires.arch "sparc"`},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d malformed specs", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSpec(t, c.text)
			_, err := Load(p)
			if err == nil {
				t.Fatalf("accepted; want %s:%d: ...%s", p, c.line, c.want)
			}
			first := strings.Split(err.Error(), "\n")[0]
			prefix := fmt.Sprintf("%s:%d: ", p, c.line)
			if !strings.HasPrefix(first, prefix) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q\nwant it to start with %q and contain %q", err, prefix, c.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `:[0-9]+: `).MatchString(line) {
					t.Errorf("error line without file:line: %q", line)
				}
			}
		})
	}
	if _, err := Load(writeSpec(t, ok)); err != nil {
		t.Errorf("the valid base spec: %v", err)
	}
}
