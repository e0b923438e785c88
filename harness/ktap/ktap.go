package ktap

import "strings"

// Outcome of a test case.
type Outcome string

// The outcomes a KTAP result line can have.
const (
	Pass Outcome = "PASS"
	Fail Outcome = "FAIL"
	Skip Outcome = "SKIP"
	// Missing: the plan announced the test but no result line came.
	Missing Outcome = "MISSING"
)

// Test is one test (a leaf case or a suite with subtests).
type Test struct {
	// Name is the description of its result line (or of "# Subtest:").
	Name string
	// Number is its position in its parent's plan (1-based).
	Number int
	// Outcome is the result; a parent with no result line of its own gets
	// the worst of its subtests.
	Outcome Outcome
	// Directive is the text after "# SKIP" or "# TODO" ("" when none).
	Directive string
	// Plan is the announced number of subtests (-1 when none).
	Plan int
	// Subtests are the nested tests, in order.
	Subtests []*Test
	// Diagnostics are the "# ..." lines and unparsed lines inside the test.
	Diagnostics []string
	// Problems are format violations (plan mismatch, bad numbering).
	Problems []string

	// result: Outcome comes from the test's own result line.
	result bool
}

// IsStart reports whether line opens a KTAP document.
func IsStart(line string) bool { return versionRE.MatchString(strings.TrimSpace(line)) }

// Parse reads the KTAP in lines and returns the top-level test holding the
// document's tests as subtests. It returns nil when there is no KTAP.
//
// The document starts at the first version line, at any indentation
// (without one, at KUnit's "    # NAME: # failed to initialize (ERR)"
// line); anything before it is ignored. Lines are kernel log lines without their
// record prefix (the text of /dev/kmsg records, split at newlines), with
// their leading spaces. Two shapes of KUnit modules are read:
//
//   - 6.12 prints "KTAP version 1" and "1..N" at column 0 when a module is
//     loaded, then each suite as an indented subtest followed by its result
//     line at column 0, numbered from 1.
//   - 6.1 prints no top-level version line or plan: the first line is the
//     first suite's indented "    KTAP version 1", each suite's result
//     line at column 0 carries a counter that only restarts at 1 when a
//     KUnit module is unloaded. Such a top level has no plan, and its
//     numbering may start anywhere and restart at 1.
//
// A version line at column 0 after results starts a new top-level part
// (a second module's tests) with its own plan and numbering. The suites'
// "# name: pass:P fail:F skip:S total:T" and "# Totals: ..." lines between
// a suite's block and its result line are the suite's diagnostics. Lines
// of a shallower indentation that do not end the test (KUnit prints a
// parameterized case's failure messages four spaces less deep than its
// parameters' results; other kernel messages interleave at column 0) are
// diagnostics too.
func Parse(lines []string) *Test {
	start := -1
	for i, l := range lines {
		if strings.Contains(l, "TAP version ") && IsStart(l) {
			start = i
			break
		}
	}
	if start < 0 {
		// 6.1 prints no version line at all for a module whose only
		// suite failed to initialize: its failure line and "not ok" are
		// the document.
		for i, l := range lines {
			if initFailRE.MatchString(l) {
				start = i
				break
			}
		}
	}
	if start < 0 {
		return nil
	}
	p := newParser(lines[start:])
	root := &Test{Name: "", Plan: -1}
	// An indented first line: KUnit 6.1's top level (see above).
	p.body(root, 0, p.lines[0].depth > 0)
	finish(root)
	return root
}

// finish gives tests without a result line the worst outcome of their
// subtests.
func finish(t *Test) {
	for _, s := range t.Subtests {
		finish(s)
	}
	if t.Outcome == "" {
		t.Outcome = Pass
		if len(t.Subtests) > 0 && allSkipped(t.Subtests) {
			t.Outcome = Skip
		}
		for _, s := range t.Subtests {
			if s.Outcome == Fail || s.Outcome == Missing {
				t.Outcome = Fail
			}
		}
		if len(t.Problems) > 0 {
			t.Outcome = Fail
		}
	}
}

func allSkipped(ts []*Test) bool {
	for _, s := range ts {
		if s.Outcome != Skip {
			return false
		}
	}
	return true
}
