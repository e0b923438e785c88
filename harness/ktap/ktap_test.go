package ktap

import (
	"reflect"
	"strings"
	"testing"
)

func lines(s string) []string { return strings.Split(strings.TrimPrefix(s, "\n"), "\n") }

// KUnit's nested format (6.x): the suite's "# Subtest:" and plan are inside
// the indented block, the failure diagnostics precede the "not ok" line.
const kunit61 = `
random: crng init done
KTAP version 1
1..2
    KTAP version 1
    # Subtest: example
    # module: example_test
    1..3
    ok 1 example_simple_test
    # example_skip_test: initializing
    ok 2 example_skip_test # SKIP this test should be skipped
    # example_fail_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:30
    Expected 1 + 1 == 3, but
        1 + 1 == 2
    not ok 3 example_fail_test
# example: pass:1 fail:1 skip:1 total:3
not ok 1 example
    KTAP version 1
    # Subtest: all_skipped
    1..1
    ok 1 only # SKIP no hardware
ok 2 all_skipped
`

func TestParseKUnit(t *testing.T) {
	root := Parse(lines(kunit61))
	if root == nil {
		t.Fatal("no KTAP found")
	}
	got := root.Cases()
	want := []Case{
		{"example.example_simple_test", Pass, ""},
		{"example.example_skip_test", Skip, "this test should be skipped"},
		{"example.example_fail_test", Fail, "example_fail_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:30; Expected 1 + 1 == 3, but; 1 + 1 == 2"},
		{"all_skipped.only", Skip, "no hardware"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cases:\n got %+v\nwant %+v", got, want)
	}
	if root.Outcome != Fail || root.Subtests[0].Outcome != Fail || root.Subtests[1].Outcome != Pass {
		t.Errorf("outcomes: root %s, example %s, all_skipped %s", root.Outcome, root.Subtests[0].Outcome, root.Subtests[1].Outcome)
	}
}

// The older TAP 14 form of KUnit (5.4–5.x): "- " before names, the subtest
// name only in "# Subtest:".
func TestParseTAP14(t *testing.T) {
	in := `
TAP version 14
1..1
    # Subtest: list-kunit-test
    1..2
    ok 1 - list_test_list_init
    not ok 2 - list_test_list_add
    # list_test_list_add: ASSERTION FAILED
not ok 1 - list-kunit-test
`
	got := Parse(lines(in)).Cases()
	want := []Case{
		{"list-kunit-test.list_test_list_init", Pass, ""},
		{"list-kunit-test.list_test_list_add", Fail, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cases:\n got %+v\nwant %+v", got, want)
	}
}

// A crash in the middle leaves announced tests without results: they are
// MISSING and the document fails.
func TestParseTruncated(t *testing.T) {
	in := `
KTAP version 1
1..3
ok 1 first
ok 2 second
`
	root := Parse(lines(in))
	cases := root.Cases()
	if root.Outcome != Fail {
		t.Errorf("outcome %s, want FAIL", root.Outcome)
	}
	if len(cases) != 4 || cases[0].Outcome != Fail || !strings.Contains(cases[0].Reason, "plan 1..3 but 2 results") || cases[3].Outcome != Missing {
		t.Errorf("cases = %+v", cases)
	}
}

func TestParseNone(t *testing.T) {
	if Parse(lines("Hello, world\nok 1 not tap without a version line")) != nil {
		t.Error("found KTAP where there is none")
	}
}

func TestParseNumbering(t *testing.T) {
	root := Parse(lines("KTAP version 1\n1..2\nok 1 a\nok 3 b\n"))
	if root.Outcome != Fail || len(root.Problems) == 0 || !strings.Contains(root.Problems[0], `"b" is numbered 3, expected 2`) {
		t.Errorf("outcome %s, problems %q", root.Outcome, root.Problems)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(kunit61)
	f.Add(kunit61TwoSuites)
	f.Add(kunit612Example)
	f.Add("KTAP version 1\n1..1\n    KTAP version 1\nok 1 x # SKIP\n")
	f.Add("TAP version 14\n        deep\nnot ok 9 - ### #\n1..")
	f.Fuzz(func(t *testing.T, s string) {
		root := Parse(strings.Split(s, "\n"))
		if root == nil {
			return
		}
		for _, c := range root.Cases() {
			switch c.Outcome {
			case Pass, Fail, Skip, Missing:
			default:
				t.Fatalf("case %+v has no valid outcome", c)
			}
		}
	})
}
