package verdict

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/symbol"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// loadSpec parses a spec made of head (top-level keys) and steps.
func loadSpec(t *testing.T, head, steps string) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, spec.FileName)
	os.WriteFile(p, []byte("name: t\n"+head+"steps:\n"+steps), 0o644)
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recs(lines ...string) []klog.Record {
	var out []klog.Record
	for i, l := range lines {
		out = append(out, klog.Record{Seq: uint64(i), Level: 6, Text: l})
	}
	return out
}

func TestJudgeStep(t *testing.T) {
	ordered := "  - insmod: m\n    log: ['^first$', '^second$']\n"
	cases := []struct {
		name    string
		step    string
		resp    guest.Response
		outcome result.Outcome
		reason  string
	}{
		{"all lines in order", ordered, guest.Response{Records: recs("noise", "first", "x", "second")}, result.Pass, ""},
		{"multi-line record", ordered, guest.Response{Records: recs("first\nsecond")}, result.Pass, ""},
		{"missing line", ordered, guest.Response{Records: recs("first")}, result.Fail, "expected log line /^second$/ did not appear after the line matching /^first$/"},
		{"nearest line named", "  - insmod: m\n    log: ['^mydrv: probe of dev0 succeeded in [0-9]+ ms$']\n",
			guest.Response{Records: recs("mydrv: loading", "mydrv: probe of dev1 succeeded in 3 ms", "mydrv: ready")},
			result.Fail, `(3 lines logged); nearest line logged: "mydrv: probe of dev1 succeeded in 3 ms"`},
		{"no line near", ordered, guest.Response{Records: recs("first", "unrelated")}, result.Fail, "/^second$/ did not appear after the line matching /^first$/ (2 lines logged)"},
		{"nearest after the previous match", "  - insmod: m\n    log: ['^first line$', '^second line [0-9]$']\n", guest.Response{Records: recs("second line x", "first line", "second line y")},
			result.Fail, `nearest line logged: "second line y"`},
		{"wrong order", ordered, guest.Response{Records: recs("second", "first")}, result.Fail, "/^second$/"},
		{"nothing logged", ordered, guest.Response{}, result.Fail, "/^first$/ did not appear in the kernel log of the step (0 lines logged)"},
		{"unexpected errno", "  - insmod: m\n", guest.Response{Errno: "ENOENT"}, result.Fail, "insmod failed with ENOENT, expected success"},
		{"expected errno", "  - insmod: m\n    expect: ENOMEM\n", guest.Response{Errno: "ENOMEM"}, result.Pass, ""},
		{"expected errno, got success", "  - insmod: m\n    expect: ENOMEM\n", guest.Response{}, result.Fail, "insmod returned ok, expected ENOMEM"},
		{"crash in the window", "  - insmod: m\n", guest.Response{Signal: "SIGSEGV", Records: recs("BUG: kernel NULL pointer dereference, address: 0", "Oops: 0002 [#1] SMP", "---[ end trace 0000000000000000 ]---")},
			result.Crash, "kernel reported BUG: kernel NULL pointer dereference (insmod was killed by SIGSEGV)"},
		{"crash cut short in the window", "  - insmod: m\n", guest.Response{Signal: "SIGSEGV", Records: recs("BUG: kernel NULL pointer dereference, address: 0", "Oops: 0002 [#1] SMP")},
			result.Crash, "kernel reported BUG: kernel NULL pointer dereference (incomplete: the log ends inside the report)"},
		{"warning in the window", "  - rmmod: m\n", guest.Response{Records: recs("WARNING: CPU: 0 PID: 1 at lib/x.c:1 f+0x1/0x2")}, result.Crash, "WARNING in f"},
		{"killed without report", "  - insmod: m\n", guest.Response{Signal: "SIGKILL"}, result.Crash, "insmod was killed by SIGKILL"},
		{"agent timeout", "  - insmod: m\n    timeout: 5s\n", guest.Response{Timeout: true}, result.Timeout, "did not finish within 5s"},
		{"agent error", "  - insmod: m\n", guest.Response{Error: "no such file"}, result.Error, "guest agent: no such file"},
		{"unordered", "  - insmod: m\n    log_any: ['^b$', '^a$']\n", guest.Response{Records: recs("a", "b")}, result.Pass, ""},
		{"unordered missing", "  - insmod: m\n    log_any: ['^b$', '^c$']\n", guest.Response{Records: recs("a", "b")}, result.Fail, "/^c$/ did not appear"},
		{"absent", "  - insmod: m\n    log_absent: ['leak']\n", guest.Response{Records: recs("a", "memory leak here")}, result.Fail, `"memory leak here" matches /leak/, which must not appear`},
		{"absent and absent", "  - insmod: m\n    log_absent: ['leak']\n", guest.Response{Records: recs("a")}, result.Pass, ""},
		{"absent, records dropped", "  - insmod: m\n    log_absent: ['leak']\n", guest.Response{Records: recs("a"), Dropped: 5}, result.Fail, "log_absent cannot be checked: 5 records"},
		{"expected line, records lost", "  - insmod: m\n    log: ['^z$']\n", guest.Response{Records: recs("a"), Lost: 3}, result.Fail, "(3 records of this step are missing"},
		{"count", "  - insmod: m\n    log: [{match: '^x$', count: 2}]\n", guest.Response{Records: recs("x", "y", "x", "x")}, result.Fail, "appeared 3 times, expected 2"},
		{"count ok", "  - insmod: m\n    log_any: [{match: '^x$', count: 3}]\n", guest.Response{Records: recs("x", "y", "x", "x")}, result.Pass, ""},
		{"level", "  - insmod: m\n    log: [{match: '^x$', level: warning}]\n", guest.Response{Records: recs("x")}, result.Fail, "/^x$/ at level warning did not appear"},
		{"level ok", "  - insmod: m\n    log: [{match: '^x$', level: info}]\n", guest.Response{Records: recs("x")}, result.Pass, ""},
		{"capture", "  - insmod: m\n    log: ['^pid=(?P<pid>[0-9]+)$', '^again ${pid}$']\n", guest.Response{Records: recs("pid=42", "again 41", "again 42")}, result.Pass, ""},
		{"capture mismatch", "  - insmod: m\n    log: ['^pid=(?P<pid>[0-9]+)$', '^again ${pid}$']\n", guest.Response{Records: recs("pid=42", "again 41")}, result.Fail, `/^again 42$/`},
		{"new taint", "  - insmod: m\n", guest.Response{TaintBefore: 0, TaintAfter: 1<<12 | 1<<9}, result.Fail, "tainted the kernel: W (kernel warning)"},
		{"out-of-tree taint", "  - insmod: m\n", guest.Response{TaintBefore: 0, TaintAfter: 1<<12 | 1<<13}, result.Pass, ""},
		{"expected signal", "  - insmod: m\n    expect: SIGKILL\n", guest.Response{Signal: "SIGKILL"}, result.Pass, ""},
		{"run exit 0", "  - run: [true]\n", guest.Response{Exit: intp(0)}, result.Pass, ""},
		{"run exit 1", "  - run: [false]\n", guest.Response{Exit: intp(1), Stderr: "why"}, result.Fail, "run exited with status 1, expected 0; its standard error:\nwhy"},
		{"run expected exit", "  - run: 'exit 4'\n    exit: 4\n", guest.Response{Exit: intp(4)}, result.Pass, ""},
		{"run killed", "  - run: [x]\n", guest.Response{Signal: "SIGKILL"}, result.Fail, "run was killed by SIGKILL, expected success"},
		{"run expected kill", "  - run: [x]\n    expect: SIGKILL\n", guest.Response{Signal: "SIGKILL"}, result.Pass, ""},
		{"run expected kill, exited", "  - run: [x]\n    expect: SIGKILL\n", guest.Response{Exit: intp(0)}, result.Fail, "run exited with status 0, expected SIGKILL"},
		{"run not found", "  - run: [x]\n", guest.Response{Errno: "ENOENT"}, result.Fail, "run failed with ENOENT"},
		{"stdout", "  - run: [x]\n    stdout: '^b$'\n", guest.Response{Exit: intp(0), Stdout: "a\nb\n"}, result.Pass, ""},
		{"stdout mismatch", "  - run: [x]\n    stdout: '^c$'\n", guest.Response{Exit: intp(0), Stdout: "a\nb\n"}, result.Fail, "output does not match /^c$/"},
		{"read content", "  - read: /proc/x\n    content: '^v=[0-9]+$'\n", guest.Response{Data: []byte("a\nv=12\n")}, result.Pass, ""},
		{"read content mismatch", "  - read: /proc/x\n    content: '^v=[0-9]+$'\n", guest.Response{Data: []byte("v=x")}, result.Fail, `/proc/x holds "v=x"`},
		{"ktap pass", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("KTAP version 1", "1..2", "ok 1 a", "ok 2 b # SKIP no")}, result.Pass, ""},
		{"ktap fail", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("KTAP version 1", "1..2", "ok 1 a", "not ok 2 b")}, result.Fail, "KTAP: 1 of 2 cases failed: b FAIL"},
		{"ktap missing", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("KTAP version 1", "1..3", "ok 1 a")}, result.Fail, "#2 MISSING"},
		{"ktap absent", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("hello")}, result.Fail, "printed no KTAP"},
		{"write errno", "  - write: /proc/x\n    data: '1'\n", guest.Response{Errno: "EINVAL"}, result.Fail, "write failed with EINVAL"},
		{"ktap step may add N", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("KTAP version 1", "1..1", "ok 1 a"), TaintAfter: 1<<12 | 1<<18}, result.Pass, ""},
		{"N without ktap", "  - insmod: m\n", guest.Response{TaintAfter: 1<<12 | 1<<18}, result.Fail, "tainted the kernel: N (in-kernel test); list the flags under taint: if that is intended (N: the step ran KUnit tests; say ktap: true"},
		{"ktap step, other taint", "  - insmod: m\n    ktap: true\n", guest.Response{Records: recs("KTAP version 1", "1..1", "ok 1 a"), TaintAfter: 1<<18 | 1<<9}, result.Fail, "tainted the kernel: W (kernel warning); list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := loadSpec(t, "", c.step)
			r := NewJudge(s).Step(1, c.resp)
			if r.Outcome != c.outcome || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("Step = %s %q, want %s containing %q", r.Outcome, r.Reason, c.outcome, c.reason)
			}
		})
	}
}

// A test that triggers a crash on purpose passes when the spec allows it,
// its taint included; any other report is still a crash.
func TestJudgeAllowedCrash(t *testing.T) {
	warn := guest.Response{TaintAfter: 1<<12 | 1<<9, Records: recs("crashers: kind=warn",
		"WARNING: CPU: 0 PID: 93 at crashers.c:30 crashers_warn+0x5/0x10 [crashers]", "crashers: done")}
	step := "  - insmod: crashers\n    log: ['^crashers: done$']\n"
	for _, c := range []struct {
		head    string
		outcome result.Outcome
	}{
		{"", result.Crash},
		{"allow: [{kind: WARNING}]\n", result.Pass},
		{"allow: [{kind: WARNING, match: crashers_warn}]\n", result.Pass},
		{"allow: [{match: 'in crashers_warn'}]\n", result.Pass},
		{"allow: [{kind: WARNING, match: other_func}]\n", result.Crash},
		{"allow: [{kind: BUG}]\n", result.Crash},
	} {
		r := NewJudge(loadSpec(t, c.head, step)).Step(1, warn)
		if r.Outcome != c.outcome {
			t.Errorf("with %q: %s %q, want %s", c.head, r.Outcome, r.Reason, c.outcome)
		}
		if c.outcome == result.Pass && len(r.Allowed) != 1 {
			t.Errorf("with %q: allowed reports %+v, want the warning", c.head, r.Allowed)
		}
	}
	// An allowed oops kills insmod: the spec says so with expect: SIGKILL.
	oops := guest.Response{Signal: "SIGSEGV", TaintAfter: 1 << 7, Records: recs("kernel BUG at crashers.c:35!", "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP")}
	r := NewJudge(loadSpec(t, "allow: [{kind: BUG}]\n", "  - insmod: crashers\n")).Step(1, oops)
	if r.Outcome != result.Crash || !strings.Contains(r.Reason, "say expect: SIGSEGV") {
		t.Errorf("allowed oops without expect: %s %q", r.Outcome, r.Reason)
	}
	r = NewJudge(loadSpec(t, "allow: [{kind: BUG}]\n", "  - insmod: crashers\n    expect: SIGSEGV\n")).Step(1, oops)
	if r.Outcome != result.Pass {
		t.Errorf("allowed oops with expect: SIGSEGV: %s %q", r.Outcome, r.Reason)
	}
}

func intp(i int) *int { return &i }

func TestResultAddKeepsFirstWorst(t *testing.T) {
	r := Result{Outcome: result.Pass}
	r.Add(StepResult{Index: 1, Step: "insmod a", Outcome: result.Pass})
	r.Add(StepResult{Index: 2, Step: "insmod b", Line: 7, Outcome: result.Fail, Reason: "nope", Records: recs("l1", "l2")})
	r.Add(StepResult{Index: 3, Step: "rmmod b", Outcome: result.Fail, Reason: "later"})
	if r.Outcome != result.Fail || r.Reason != "step 2 (insmod b): nope" || r.Line != 7 {
		t.Errorf("result = %s %q line %d", r.Outcome, r.Reason, r.Line)
	}
	if strings.Join(r.Excerpt, ",") != "l1,l2" {
		t.Errorf("excerpt = %q", r.Excerpt)
	}
	r.Add(StepResult{Index: 4, Step: "rmmod c", Outcome: result.Crash, Reason: "boom"})
	if r.Outcome != result.Crash || !strings.HasPrefix(r.Reason, "step 4") {
		t.Errorf("a worse later step must win: %s %q", r.Outcome, r.Reason)
	}
	if len(r.Steps) != 4 {
		t.Errorf("steps = %d", len(r.Steps))
	}
}

func TestWorse(t *testing.T) {
	if result.Worse(result.Pass, result.Fail) != result.Fail || result.Worse(result.Crash, result.Fail) != result.Crash || result.Worse(result.Skip, result.Pass) != result.Skip {
		t.Error("Worse does not order outcomes")
	}
}

// A wait step's expectations see the kernel log of its program's whole
// life, whichever step's window a line fell in, and nothing before it.
func TestJudgeWaitWindow(t *testing.T) {
	// "before" is logged by the step ahead of the program's start: a
	// judge that gave the wait step the whole test's log would see it.
	steps := []guest.Response{{Records: recs("before")}, {Records: recs("started")}, {Records: recs("interrupted")}, {Exit: intp(0)}}
	for _, c := range []struct {
		absent  string
		outcome result.Outcome
		reason  string
	}{
		{"'^before$'", result.Pass, ""},
		// A line of the sleep step's window is in the program's life.
		{"'^interrupted$'", result.Fail, `"interrupted" matches /^interrupted$/, which must not appear`},
	} {
		s := loadSpec(t, "", "  - insmod: m\n  - run: [x]\n    background: b\n  - sleep: 1s\n  - wait: b\n"+
			"    log: ['^started$', '^interrupted$']\n    log_absent: ["+c.absent+"]\n")
		j := NewJudge(s)
		for i, resp := range steps[:len(steps)-1] {
			if r := j.Step(i+1, resp); r.Outcome != result.Pass {
				t.Fatalf("log_absent %s: step %d: %s %q", c.absent, i+1, r.Outcome, r.Reason)
			}
		}
		if r := j.Step(len(steps), steps[len(steps)-1]); r.Outcome != c.outcome || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("wait step with log_absent %s: %s %q, want %s containing %q", c.absent, r.Outcome, r.Reason, c.outcome, c.reason)
		}
	}
}

// taint: [N] allows N on any step.
func TestJudgeTaintListed(t *testing.T) {
	s := loadSpec(t, "taint: [N]\n", "  - insmod: m\n")
	if r := NewJudge(s).Step(1, guest.Response{TaintAfter: 1 << 18}); r.Outcome != result.Pass {
		t.Errorf("Step = %s %q, want PASS", r.Outcome, r.Reason)
	}
}

// A KUnit module on 6.1: the records as the agent returns them (a failed
// expectation is one record of three lines), no top-level version line;
// each case reaches the step's result, and the taint N KUnit adds is
// allowed on a ktap: true step.
func TestJudgeKUnit61(t *testing.T) {
	records := recs(
		"demo_test: loading test module taints kernel.",
		"    KTAP version 1",
		"    # Subtest: demo",
		"    1..3",
		"    ok 1 demo_add",
		"    # demo_mul: EXPECTATION FAILED at /tmp/lkm/demo_test.c:21\n    Expected demo_mul(2, 3) == 7, but\n        demo_mul(2, 3) == 6",
		"    not ok 2 demo_mul",
		"    ok 3 demo_div # SKIP no divider",
		"# demo: pass:1 fail:1 skip:1 total:3",
		"# Totals: pass:1 fail:1 skip:1 total:3",
		"not ok 1 demo",
	)
	s := loadSpec(t, "", "  - insmod: demo_test\n    ktap: true\n")
	r := NewJudge(s).Step(1, guest.Response{Records: records, TaintAfter: 1<<12 | 1<<18})
	want := "KTAP: 1 of 3 cases failed: demo.demo_mul FAIL (demo_mul: EXPECTATION FAILED at /tmp/lkm/demo_test.c:21; Expected demo_mul(2, 3) == 7, but; demo_mul(2, 3) == 6)"
	if r.Outcome != result.Fail || r.Reason != want {
		t.Errorf("Step = %s %q, want FAIL %q", r.Outcome, r.Reason, want)
	}
	if len(r.Cases) != 3 || r.Cases[0].Path != "demo.demo_add" || r.Cases[2].Outcome != "SKIP" {
		t.Errorf("cases = %+v", r.Cases)
	}
	// Fixed, the same step passes with its N taint.
	records = recs(
		"    KTAP version 1",
		"    # Subtest: demo",
		"    1..3",
		"    ok 1 demo_add",
		"    ok 2 demo_mul",
		"    ok 3 demo_div # SKIP no divider",
		"# demo: pass:2 fail:0 skip:1 total:3",
		"# Totals: pass:2 fail:0 skip:1 total:3",
		"ok 1 demo",
	)
	r = NewJudge(s).Step(1, guest.Response{Records: records, TaintAfter: 1<<12 | 1<<18})
	if r.Outcome != result.Pass || len(r.Cases) != 3 {
		t.Errorf("fixed: %s %q, cases %+v", r.Outcome, r.Reason, r.Cases)
	}
}

// Captures of stdout and wait_log feed a later assert step; a wait_log
// whose line never came and a false assertion fail, saying why.
func TestJudgeWaitLogAndAssert(t *testing.T) {
	s := loadSpec(t, "", `  - run: 'echo base 0x1000 size 4096'
    stdout: '^base (?P<base>0x[0-9a-f]+) size (?P<size>[0-9]+)$'
  - wait_log: '^addr (?P<addr>0x[0-9a-f]+)$'
    timeout: 2s
  - assert: '${base} <= ${addr} < ${base} + ${size}'
  - wait_log: '^never$'
    timeout: 2s
`)
	exit0 := 0
	j := NewJudge(s)
	steps := []struct {
		resp    guest.Response
		outcome result.Outcome
		reason  string
	}{
		{guest.Response{Exit: &exit0, Stdout: "base 0x1000 size 4096\n"}, result.Pass, ""},
		{guest.Response{Records: recs("noise", "addr 0x1ffc")}, result.Pass, ""},
		{guest.Response{}, result.Pass, ""},
		{guest.Response{Records: recs("noise"), DurationUS: 2000000}, result.Fail, "no kernel log line matched /^never$/ within 2s (waited 2s)"},
	}
	for i, st := range steps {
		r := j.Step(i+1, st.resp)
		if r.Outcome != st.outcome || !strings.Contains(r.Reason, st.reason) {
			t.Errorf("step %d: %s %q, want %s %q", i+1, r.Outcome, r.Reason, st.outcome, st.reason)
		}
	}
	if j.Vars["addr"] != "0x1ffc" || j.Vars["size"] != "4096" {
		t.Errorf("captured %v", j.Vars)
	}
	j.Vars["addr"] = "0x2000" // one past the end
	if r := j.Step(3, guest.Response{}); r.Outcome != result.Fail ||
		r.Reason != "assert ${base} <= ${addr} < ${base} + ${size}: ${base} (4096) <= ${addr} (8192) < ${base} + ${size} (8192) is false" {
		t.Errorf("false assertion: %s %q", r.Outcome, r.Reason)
	}
	j.Vars["addr"] = "nowhere"
	if r := j.Step(3, guest.Response{}); r.Outcome != result.Fail || !strings.Contains(r.Reason, `${addr} is "nowhere", not an integer`) {
		t.Errorf("non-integer capture: %s %q", r.Outcome, r.Reason)
	}
}

// With a kernel image that has debug info, the kernel's own frames get
// their lines too, and a report without a module frame points at the
// first of them.
func TestSymbolizeKernelFrames(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "vmlinux")
	src, _ := filepath.Abs("../symbol/testdata/inlined.c")
	if b, err := exec.Command("gcc", "-O2", "-gdwarf-5", "-no-pie", "-nostdlib", "-Wl,-e,caller", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	tab := symbol.NewTable(nil)
	if !tab.SetKernel(exe) {
		t.Fatal("SetKernel refused the image")
	}
	r := klog.Report{Header: "BUG: x", Frames: []klog.Frame{{Func: "caller", Off: 4, Kind: "pc"}, {Func: "entry_SYSCALL_64", Off: 0x10, Kind: "call"}}}
	NewSymbolizer(tab, filepath.Dir(src))(&r)
	if r.Frames[0].File != "inlined.c" || r.Frames[0].LineNo == 0 || r.Frames[1].File != "" {
		t.Errorf("frames %+v, want the first at inlined.c:N and none for a function the image lacks", r.Frames)
	}
	if got := reportSource(r); got != fmt.Sprintf("inlined.c:%d", r.Frames[0].LineNo) {
		t.Errorf("reportSource = %q", got)
	}
}

// A wait_log step sees the log of the step before it (a background
// program's line that came while its run step was answered), and a line
// one wait_log matched does not count again for the next.
func TestJudgeWaitLogCarry(t *testing.T) {
	s := loadSpec(t, "", `  - run: [holder]
    background: h
  - wait_log: '^waiting (?P<n>[0-9])$'
  - signal: h
  - wait_log: '^waiting [0-9]$'
    timeout: 1s
  - wait_log: '^waiting [0-9]$'
    timeout: 1s
`)
	j := NewJudge(s)
	if r := j.Step(1, guest.Response{Records: recs("waiting 1")}); r.Outcome != result.Pass {
		t.Fatalf("step 1: %s", r.Reason)
	}
	if !j.Satisfied(&s.Steps[1]) {
		t.Errorf("step 2 is not satisfied by step 1's line")
	}
	if r := j.Step(2, guest.Response{}); r.Outcome != result.Pass || j.Vars["n"] != "1" {
		t.Errorf("step 2: %s %q, n=%q; want PASS capturing 1 from the step before", r.Outcome, r.Reason, j.Vars["n"])
	}
	if r := j.Step(3, guest.Response{Records: recs("noise", "waiting 2")}); r.Outcome != result.Pass {
		t.Fatalf("step 3: %s", r.Reason)
	}
	if r := j.Step(4, guest.Response{}); r.Outcome != result.Pass {
		t.Errorf("step 4: %s %q; want PASS on the second line", r.Outcome, r.Reason)
	}
	if j.Satisfied(&s.Steps[4]) {
		t.Errorf("step 5 is satisfied by a line step 4 matched already")
	}
	if r := j.Step(5, guest.Response{DurationUS: 1e6}); r.Outcome != result.Fail {
		t.Errorf("step 5: %s; want FAIL: both lines were matched already", r.Outcome)
	}
}

// A wait_log step's log: expectations see the lines its pattern sees: a
// report that came with the step before, and its own.
func TestJudgeWaitLogExpectationsSeeCarry(t *testing.T) {
	s := loadSpec(t, "", `  - run: 'echo f > /proc/sysrq-trigger'
  - wait_log: '^Killed process [0-9]+$'
    log: ['^invoked oom-killer$', '^Killed process [0-9]+$']
  - wait_log: '^reaped$'
    log: ['^invoked oom-killer$', '^Killed process [0-9]+$']
`)
	exit0 := 0
	j := NewJudge(s)
	if r := j.Step(1, guest.Response{Exit: &exit0, Records: recs("invoked oom-killer", "Killed process 7")}); r.Outcome != result.Pass {
		t.Fatalf("step 1: %s", r.Reason)
	}
	if r := j.Step(2, guest.Response{}); r.Outcome != result.Pass {
		t.Errorf("step 2, its lines carried from step 1: %s %s", r.Outcome, r.Reason)
	}
	// The line an earlier wait_log matched is not carried again; the
	// others are.
	if r := j.Step(3, guest.Response{Records: recs("reaped")}); r.Outcome != result.Fail || !strings.Contains(r.Reason, "/^Killed process [0-9]+$/ did not appear after the line matching /^invoked oom-killer$/") {
		t.Errorf("step 3: %s %q; want FAIL: the Killed line went with step 2's wait", r.Outcome, r.Reason)
	}
}

func TestNearest(t *testing.T) {
	lines := []logLine{{text: "oom_try: PID 33"}, {text: "kworker/0:1 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1"}, {text: "Out of memory: Killed process 33"}}
	cases := []struct {
		pattern, want string
	}{
		{`^oom_try invoked oom-killer: gfp_mask=0x[0-9a-f]+\(.*\), order=0$`, lines[1].text},
		{`^Out of memory: Killed process (?P<pid>[0-9]+) \(oom_try\)`, lines[2].text},
		{`^hello`, ""},                             // too little literal text to say
		{`^sysrq: Manual OOM execution$`, ""},      // nothing close
		{`(?i)^out of memory: killed process`, ""}, // folded literals are not compared
		{`^[`, ""}, // does not parse
	}
	for _, c := range cases {
		got, ok := nearest(c.pattern, lines)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("nearest(%q) = %q, %v; want %q", c.pattern, got, ok, c.want)
		}
	}
}

// Two wait_log steps for events that may come in either order: the second
// line came first, in the first wait's window (as percpu's two kthreads
// ended in a warm VM, captured in a run of the suite), and the second
// wait is satisfied by it without waiting.
func TestJudgeWaitLogEitherOrder(t *testing.T) {
	s := loadSpec(t, "", `  - insmod: percpu_var
  - wait_log: '^percpu_var: Our kernel thread #0 exiting now\.\.\.$'
  - wait_log: '^percpu_var: Our kernel thread #1 exiting now\.\.\.$'
`)
	j := NewJudge(s)
	if r := j.Step(1, guest.Response{Records: recs("percpu_var: inserted")}); r.Outcome != result.Pass {
		t.Fatalf("step 1: %s", r.Reason)
	}
	if r := j.Step(2, guest.Response{Records: recs("percpu_var:   thrd_1/cpu1: pcpa = -3",
		"percpu_var: Our kernel thread #1 exiting now...", "percpu_var: Our kernel thread #0 exiting now...")}); r.Outcome != result.Pass {
		t.Fatalf("step 2: %s", r.Reason)
	}
	if !j.Satisfied(&s.Steps[2]) {
		t.Errorf("step 3 is not satisfied by the line that came before step 2's")
	}
	if r := j.Step(3, guest.Response{}); r.Outcome != result.Pass {
		t.Errorf("step 3: %s %q; want PASS", r.Outcome, r.Reason)
	}
}
