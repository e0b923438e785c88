package ktap

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/klog"
)

// The inputs below are kernel log lines as the agent returns them (the
// records' text, split at newlines, leading spaces kept), in the shapes
// lib/kunit/test.c and executor.c of 6.1 and 6.12 print when a KUnit
// module is loaded. They are written from those sources; captured logs of
// real guests go to testdata/kunit-*.log (TestKUnitLogs).

// kunit61Example: 6.1, one suite (lib/kunit/kunit-example-test.c). No
// top-level version line or plan; the suite's result line at column 0.
const kunit61Example = `
kunit_example_test: loading test module taints kernel.
    # example: initializing suite
    KTAP version 1
    # Subtest: example
    1..4
    # example_simple_test: initializing
    ok 1 example_simple_test
    # example_skip_test: initializing
    # example_skip_test: You should not see a line below.
    ok 2 example_skip_test # SKIP this test should be skipped
    # example_mark_skipped_test: initializing
    # example_mark_skipped_test: You should see a line below.
    # example_mark_skipped_test: You should see this line.
    ok 3 example_mark_skipped_test # SKIP this test should be skipped
    # example_all_expect_macros_test: initializing
    ok 4 example_all_expect_macros_test
# example: pass:2 fail:0 skip:2 total:4
# Totals: pass:2 fail:0 skip:2 total:4
ok 1 example
`

// kunit61TwoSuites: 6.1, a module with two suites loaded after another
// KUnit module that is still loaded (the suite counter goes on at 3), a
// failed expectation (one record of three lines), a parameterized case
// whose failure message is four spaces less deep than its parameters'
// results, a skip, and a kernel message between the suites.
const kunit61TwoSuites = `
    KTAP version 1
    # Subtest: demo_math
    1..3
    ok 1 demo_add
    # demo_mul: EXPECTATION FAILED at /tmp/lkm/demo_test.c:21
    Expected demo_mul(2, 3) == 7, but
        demo_mul(2, 3) == 6
    not ok 2 demo_mul
        KTAP version 1
        # Subtest: demo_shift
        ok 1 shift by 1
    # demo_shift: EXPECTATION FAILED at /tmp/lkm/demo_test.c:35
    Expected demo_shl(p->in, p->by) == p->out, but
        demo_shl(p->in, p->by) == 4
        p->out == 5
        not ok 2 shift by 2
        ok 3 shift by 3
    # demo_shift: pass:2 fail:1 skip:0 total:3
    not ok 3 demo_shift
# demo_math: pass:1 fail:2 skip:0 total:3
# Totals: pass:3 fail:2 skip:0 total:5
not ok 3 demo_math
random: crng init done
    KTAP version 1
    # Subtest: demo_str
    1..2
    ok 1 demo_strlen
    ok 2 demo_strcmp # SKIP no locale support
# demo_str: pass:1 fail:0 skip:1 total:2
# Totals: pass:1 fail:0 skip:1 total:2
ok 4 demo_str
`

// kunit612Example: 6.12, kunit-example-test.c: "KTAP version 1" and the
// plan at column 0, the init-section suite first, "# module:" attributes,
// a parameterized case (SKIP directives on parameters, the case's init
// and exit messages between them), a speed attribute.
const kunit612Example = `
KTAP version 1
1..2
    KTAP version 1
    # Subtest: example_init
    # module: kunit_example_test
    1..1
    ok 1 example_init_test
ok 1 example_init
    # example: initializing suite
    KTAP version 1
    # Subtest: example
    # module: kunit_example_test
    1..9
    # example_simple_test: initializing
    # example_simple_test: cleaning up
    ok 1 example_simple_test
    # example_skip_test: initializing
    # example_skip_test: You should not see a line below.
    # example_skip_test: cleaning up
    ok 2 example_skip_test # SKIP this test should be skipped
    # example_mark_skipped_test: initializing
    # example_mark_skipped_test: You should see a line below.
    # example_mark_skipped_test: You should see this line.
    # example_mark_skipped_test: cleaning up
    ok 3 example_mark_skipped_test # SKIP this test should be skipped
    # example_all_expect_macros_test: initializing
    # example_all_expect_macros_test: cleaning up
    ok 4 example_all_expect_macros_test
    # example_static_stub_test: initializing
    # example_static_stub_test: cleaning up
    ok 5 example_static_stub_test
    # example_static_stub_using_fn_ptr_test: initializing
    # example_static_stub_using_fn_ptr_test: cleaning up
    ok 6 example_static_stub_using_fn_ptr_test
    # example_priv_test: initializing
    # example_priv_test: cleaning up
    ok 7 example_priv_test
        KTAP version 1
        # Subtest: example_params_test
    # example_params_test: initializing
    # example_params_test: cleaning up
        ok 1 example value 3 # SKIP unsupported param value 3
    # example_params_test: initializing
    # example_params_test: cleaning up
        ok 2 example value 2
    # example_params_test: initializing
    # example_params_test: cleaning up
        ok 3 example value 1
    # example_params_test: initializing
    # example_params_test: cleaning up
        ok 4 example value 0 # SKIP unsupported param value 0
    # example_params_test: pass:2 fail:0 skip:2 total:4
    ok 8 example_params_test
    # example_slow_test: initializing
    # example_slow_test: cleaning up
    # example_slow_test.speed: slow
    ok 9 example_slow_test
    # example: exiting suite
# example: pass:7 fail:0 skip:2 total:9
# Totals: pass:8 fail:0 skip:4 total:12
ok 2 example
`

// kunit612TwoModules: 6.12, one step loads two KUnit modules: each prints
// its own top-level version line and plan, and numbers its suites from 1.
// The second has a failed parameter.
const kunit612TwoModules = `
KTAP version 1
1..1
    KTAP version 1
    # Subtest: alpha
    # module: alpha_test
    1..2
    ok 1 alpha_one
    ok 2 alpha_two
# alpha: pass:2 fail:0 skip:0 total:2
# Totals: pass:2 fail:0 skip:0 total:2
ok 1 alpha
KTAP version 1
1..1
    KTAP version 1
    # Subtest: beta
    # module: beta_test
    1..1
        KTAP version 1
        # Subtest: beta_range
        ok 1 low
    # beta_range: EXPECTATION FAILED at /tmp/lkm/beta_test.c:12
    Expected beta_in_range(p) to be true, but is false
        not ok 2 high
    # beta_range: pass:1 fail:1 skip:0 total:2
    not ok 1 beta_range
# Totals: pass:1 fail:1 skip:0 total:2
not ok 1 beta
`

func TestParseKUnit61(t *testing.T) {
	root := Parse(lines(kunit61Example))
	if root == nil {
		t.Fatal("no KTAP found in 6.1's indented output")
	}
	want := []Case{
		{"example.example_simple_test", Pass, ""},
		{"example.example_skip_test", Skip, "this test should be skipped"},
		{"example.example_mark_skipped_test", Skip, "this test should be skipped"},
		{"example.example_all_expect_macros_test", Pass, ""},
	}
	if got := root.Cases(); !reflect.DeepEqual(got, want) {
		t.Errorf("cases:\n got %+v\nwant %+v", got, want)
	}
	if len(root.Subtests) != 1 || root.Subtests[0].Number != 1 || root.Outcome != Pass {
		t.Errorf("top level: %d suites, outcome %s", len(root.Subtests), root.Outcome)
	}
	if d := strings.Join(root.Subtests[0].Diagnostics, "|"); !strings.Contains(d, "Totals: pass:2 fail:0 skip:2 total:4") {
		t.Errorf("the Totals line is not a diagnostic of its suite: %q", d)
	}
	checkKUnitLog(t, lines(kunit61Example))
}

func TestParseKUnit61TwoSuites(t *testing.T) {
	root := Parse(lines(kunit61TwoSuites))
	want := []Case{
		{"demo_math.demo_add", Pass, ""},
		{"demo_math.demo_mul", Fail, "demo_mul: EXPECTATION FAILED at /tmp/lkm/demo_test.c:21; Expected demo_mul(2, 3) == 7, but; demo_mul(2, 3) == 6"},
		{"demo_math.demo_shift.shift by 1", Pass, ""},
		{"demo_math.demo_shift.shift by 2", Fail, "demo_shift: EXPECTATION FAILED at /tmp/lkm/demo_test.c:35; Expected demo_shl(p->in, p->by) == p->out, but; demo_shl(p->in, p->by) == 4; p->out == 5"},
		{"demo_math.demo_shift.shift by 3", Pass, ""},
		{"demo_str.demo_strlen", Pass, ""},
		{"demo_str.demo_strcmp", Skip, "no locale support"},
	}
	if got := root.Cases(); !reflect.DeepEqual(got, want) {
		t.Errorf("cases:\n got %+v\nwant %+v", got, want)
	}
	if root.Outcome != Fail || root.Subtests[0].Outcome != Fail || root.Subtests[1].Outcome != Pass {
		t.Errorf("outcomes: root %s, demo_math %s, demo_str %s", root.Outcome, root.Subtests[0].Outcome, root.Subtests[1].Outcome)
	}
	checkKUnitLog(t, lines(kunit61TwoSuites))
}

func TestParseKUnit612(t *testing.T) {
	root := Parse(lines(kunit612Example))
	cases := root.Cases()
	if len(cases) != 13 || cases[0] != (Case{"example_init.example_init_test", Pass, ""}) ||
		cases[8] != (Case{"example.example_params_test.example value 3", Skip, "unsupported param value 3"}) ||
		cases[12] != (Case{"example.example_slow_test", Pass, ""}) {
		t.Errorf("cases = %+v", cases)
	}
	if root.Plan != 2 || root.Outcome != Pass {
		t.Errorf("plan %d, outcome %s", root.Plan, root.Outcome)
	}
	checkKUnitLog(t, lines(kunit612Example))

	root = Parse(lines(kunit612TwoModules))
	want := []Case{
		{"alpha.alpha_one", Pass, ""},
		{"alpha.alpha_two", Pass, ""},
		{"beta.beta_range.low", Pass, ""},
		{"beta.beta_range.high", Fail, "beta_range: EXPECTATION FAILED at /tmp/lkm/beta_test.c:12; Expected beta_in_range(p) to be true, but is false"},
	}
	if got := root.Cases(); !reflect.DeepEqual(got, want) {
		t.Errorf("two modules, cases:\n got %+v\nwant %+v", got, want)
	}
	if root.Plan != 2 {
		t.Errorf("two modules: plan %d, want 2 (1..1 twice)", root.Plan)
	}
	checkKUnitLog(t, lines(kunit612TwoModules))
}

// 6.1 numbers suites with a counter that a KUnit module's unloading resets:
// a step that loads, unloads and loads again starts over at 1; a jump is
// still a problem.
func TestParseKUnit61Numbering(t *testing.T) {
	suite := func(n int) string {
		return "    KTAP version 1\n    # Subtest: s\n    1..1\n    ok 1 c\n" + fmt.Sprintf("ok %d s\n", n)
	}
	root := Parse(lines(suite(5) + suite(6) + suite(1) + suite(2)))
	if len(root.Subtests) != 4 || root.Outcome != Pass {
		t.Errorf("restarted numbering: %d suites, outcome %s, cases %+v", len(root.Subtests), root.Outcome, root.Cases())
	}
	root = Parse(lines(suite(1) + suite(3)))
	if root.Outcome != Fail || len(root.Problems) != 1 || !strings.Contains(root.Problems[0], `"s" is numbered 3, expected 2`) {
		t.Errorf("a gap: outcome %s, problems %q", root.Outcome, root.Problems)
	}
}

// An oops in the middle of a suite: the rest of the plan is MISSING and the
// suite has no result line.
func TestParseKUnitCrash(t *testing.T) {
	in := `
    KTAP version 1
    # Subtest: s
    1..3
    ok 1 first
BUG: kernel NULL pointer dereference, address: 0000000000000008
Oops: 0000 [#1] PREEMPT SMP NOPTI
`
	root := Parse(lines(in))
	var outcomes []string
	for _, c := range root.Cases() {
		outcomes = append(outcomes, c.Path+"="+string(c.Outcome))
	}
	got := strings.Join(outcomes, " ")
	if want := "s=FAIL s.first=PASS s.#2=MISSING s.#3=MISSING"; got != want || root.Outcome != Fail {
		t.Errorf("cases %s (outcome %s), want %s", got, root.Outcome, want)
	}
}

// A suite whose suite_init fails prints a failure line and "not ok" only:
// in 6.1 there is no version line at all.
func TestParseKUnitInitFailure(t *testing.T) {
	for name, in := range map[string]string{
		"6.1":  "demo: loading test module taints kernel.\n    # demo:     # failed to initialize (-12)\nnot ok 1 demo\n",
		"6.12": "KTAP version 1\n1..1\n    # demo:     # failed to initialize (-12)\nnot ok 1 demo\n",
	} {
		root := Parse(lines(in))
		if root == nil {
			t.Errorf("%s: no KTAP found", name)
			continue
		}
		want := []Case{{"demo", Fail, "demo:     # failed to initialize (-12)"}}
		if got := root.Cases(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: cases %+v, want %+v", name, got, want)
		}
	}
}

// A "not ok" suite whose cases all passed still fails a case.
func TestParseNotOkWithoutFailedSubtest(t *testing.T) {
	root := Parse(lines("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n    1..1\n    ok 1 c\nnot ok 1 s\n"))
	cases := root.Cases()
	if len(cases) != 2 || cases[0].Path != "s" || cases[0].Outcome != Fail || cases[1].Outcome != Pass {
		t.Errorf("cases = %+v", cases)
	}
}

// TestKUnitLogs checks the parser on kernel logs of KUnit modules captured
// from real guests (testdata/kunit-*.log: one line per line of a record's
// text, as the agent returns them; a dmesg timestamp is tolerated).
func TestKUnitLogs(t *testing.T) {
	files, err := filepath.Glob("testdata/kunit-*.log")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no testdata/kunit-*.log: these are captured from real 6.1 and 6.12 guests by the VM test that loads KUnit modules; none has been captured yet")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var in []string
			for _, l := range strings.Split(string(b), "\n") {
				in = append(in, klog.StripTimestamp(strings.TrimRight(l, "\r")))
			}
			checkKUnitLog(t, in)
		})
	}
}

var totalsRE = regexp.MustCompile(`^# Totals: pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)$`)

// checkKUnitLog checks what must hold for the KTAP of any KUnit log: at
// least one suite and one case, no format problem, and, for every suite
// with a "# Totals:" line (KUnit prints one for a suite of more than one
// case, parameters counted one by one), that many leaf cases passed,
// failed and were skipped; the log needs at least one such line.
func checkKUnitLog(t *testing.T, in []string) {
	t.Helper()
	var want [4]int // pass, fail, skip, total: the sum of the Totals lines
	lines := 0
	for _, l := range in {
		m := totalsRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		lines++
		for i := range want {
			n, _ := strconv.Atoi(m[i+1])
			want[i] += n
		}
	}
	if lines == 0 {
		t.Fatal(`no "# Totals: pass:P fail:F skip:S total:T" line in the log`)
	}
	root := Parse(in)
	if root == nil {
		t.Fatal("no KTAP found")
	}
	var problems []string
	var walk func(*Test, string)
	walk = func(x *Test, path string) {
		for _, p := range x.Problems {
			problems = append(problems, path+": "+p)
		}
		for _, s := range x.Subtests {
			walk(s, path+"/"+s.Name)
		}
	}
	walk(root, "")
	if len(problems) > 0 {
		t.Errorf("problems: %q", problems)
	}
	if len(root.Subtests) == 0 {
		t.Fatal("no suite")
	}
	if len(root.Cases()) == 0 {
		t.Fatal("no case")
	}
	var got [4]int
	withTotals := 0
	for _, suite := range root.Subtests {
		if !slicesContainPrefix(suite.Diagnostics, "Totals: ") {
			continue
		}
		withTotals++
		for _, c := range suite.Cases() {
			switch c.Outcome {
			case Pass:
				got[0]++
			case Fail:
				got[1]++
			case Skip:
				got[2]++
			}
			got[3]++
		}
	}
	if withTotals != lines {
		t.Errorf("%d Totals lines in the log, %d suites carry one", lines, withTotals)
	}
	if got != want {
		t.Errorf("cases pass/fail/skip/total %v, the Totals lines say %v", got, want)
	}
}

func slicesContainPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
