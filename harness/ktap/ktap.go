// Package ktap parses KTAP, the test output format of KUnit and the
// kernel's selftests (Documentation/dev-tools/ktap.rst), from kernel log
// lines: version lines, plans, nested subtests indented by four spaces,
// "ok"/"not ok" result lines with SKIP and TODO directives, and diagnostic
// lines. It never fails on malformed input: what does not fit is recorded
// as a problem of the enclosing test.
package ktap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

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
}

var (
	versionRE = regexp.MustCompile(`^(KTAP|TAP) version (\d+)$`)
	planRE    = regexp.MustCompile(`^1\.\.(\d+)`)
	resultRE  = regexp.MustCompile(`^(ok|not ok) (\d+)(?: -)?(?: ([^#]*?))?\s*(?:#\s*(.*))?$`)
	subtestRE = regexp.MustCompile(`^# Subtest: (.*)$`)
)

// IsStart reports whether line opens a KTAP document.
func IsStart(line string) bool { return versionRE.MatchString(strings.TrimSpace(line)) }

// Parse reads the KTAP document in lines (anything before its first
// version line is ignored) and returns the top-level test holding the
// document's tests as subtests. It returns nil when there is no KTAP.
func Parse(lines []string) *Test {
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "KTAP version ") || strings.HasPrefix(l, "TAP version ") {
			if IsStart(l) {
				start = i
				break
			}
		}
	}
	if start < 0 {
		return nil
	}
	p := &parser{lines: lines[start+1:]}
	root := &Test{Name: "", Plan: -1}
	p.body(root, 0)
	finish(root)
	return root
}

type parser struct {
	lines []string
	pos   int
}

// indentOf returns the depth (4 spaces per level) and the rest of line.
func indentOf(line string) (int, string) {
	n := len(line) - len(strings.TrimLeft(line, " "))
	return n / 4, strings.TrimSpace(line)
}

// body parses the lines of t at depth until a line of a shallower depth.
func (p *parser) body(t *Test, depth int) {
	var diag []string // diagnostics since the last result line
	defer func() { t.Diagnostics = append(t.Diagnostics, diag...) }()
	for p.pos < len(p.lines) {
		d, text := indentOf(p.lines[p.pos])
		if text == "" {
			p.pos++
			continue
		}
		if d < depth {
			return
		}
		if d > depth && !versionRE.MatchString(text) && !subtestRE.MatchString(text) {
			// A deeper line that opens nothing: part of a diagnostic.
			diag = append(diag, text)
			p.pos++
			continue
		}
		if d > depth {
			// A nested test opens with its version line or "# Subtest:".
			sub := &Test{Plan: -1}
			if versionRE.MatchString(text) {
				p.pos++
			}
			p.body(sub, d)
			// The subtest's own result line follows at our depth, perhaps
			// after diagnostics (KUnit prints "# suite: pass:N fail:N ...").
			j := p.pos
			var between []string
			for j < len(p.lines) {
				d2, text2 := indentOf(p.lines[j])
				if d2 != depth || !strings.HasPrefix(text2, "#") || subtestRE.MatchString(text2) {
					break
				}
				between = append(between, strings.TrimSpace(strings.TrimPrefix(text2, "#")))
				j++
			}
			if j < len(p.lines) {
				if d2, text2 := indentOf(p.lines[j]); d2 == depth && resultRE.MatchString(text2) {
					p.pos = j + 1
					p.result(t, sub, text2)
					sub.Diagnostics = append(append(sub.Diagnostics, diag...), between...)
					diag = nil
					continue
				}
			}
			sub.Problems = append(sub.Problems, "no result line after the subtest")
			t.Subtests = append(t.Subtests, sub)
			continue
		}
		p.pos++
		switch {
		case versionRE.MatchString(text):
			// A repeated version line at the same depth starts nothing new.
		case planRE.MatchString(text):
			n, _ := strconv.Atoi(planRE.FindStringSubmatch(text)[1])
			if t.Plan >= 0 {
				t.Problems = append(t.Problems, fmt.Sprintf("second plan %q", text))
			}
			t.Plan = n
		case subtestRE.MatchString(text):
			// "# Subtest: NAME" names the test it opens (the result line's
			// description, when there is one, wins).
			if t.Name == "" && len(t.Subtests) == 0 {
				t.Name = subtestRE.FindStringSubmatch(text)[1]
			}
		case resultRE.MatchString(text):
			sub := &Test{Plan: -1, Diagnostics: diag}
			diag = nil
			p.result(t, sub, text)
		case strings.HasPrefix(text, "#"):
			diag = append(diag, strings.TrimSpace(strings.TrimPrefix(text, "#")))
		default:
			diag = append(diag, text)
		}
	}
}

// result fills sub from a result line and appends it to t.
func (p *parser) result(t, sub *Test, text string) {
	m := resultRE.FindStringSubmatch(text)
	sub.Number, _ = strconv.Atoi(m[2])
	if name := strings.TrimSpace(m[3]); name != "" {
		sub.Name = name
	}
	sub.Outcome = Pass
	if m[1] == "not ok" {
		sub.Outcome = Fail
	}
	if dir := strings.TrimSpace(m[4]); dir != "" {
		word, rest, _ := strings.Cut(dir, " ")
		switch strings.ToUpper(word) {
		case "SKIP":
			sub.Outcome, sub.Directive = Skip, strings.TrimSpace(rest)
			if sub.Directive == "" {
				sub.Directive = "skipped"
			}
		case "TODO":
			sub.Directive = "TODO " + strings.TrimSpace(rest)
		default:
			sub.Diagnostics = append(sub.Diagnostics, dir)
		}
	}
	if want := len(t.Subtests) + 1; sub.Number != want {
		t.Problems = append(t.Problems, fmt.Sprintf("test %q is numbered %d, expected %d", sub.Name, sub.Number, want))
	}
	t.Subtests = append(t.Subtests, sub)
}

// maxMissing bounds the MISSING tests listed one by one for a plan.
const maxMissing = 1000

// finish checks plans, adds MISSING tests and gives suites without a
// result line the worst outcome of their subtests.
func finish(t *Test) {
	for _, s := range t.Subtests {
		finish(s)
	}
	if t.Plan >= 0 && len(t.Subtests) != t.Plan {
		t.Problems = append(t.Problems, fmt.Sprintf("plan 1..%d but %d results", t.Plan, len(t.Subtests)))
		first := len(t.Subtests) + 1
		for n := first; n <= t.Plan; n++ {
			if n-first == maxMissing {
				// A plan can claim billions of tests: list a range instead.
				t.Subtests = append(t.Subtests, &Test{Name: fmt.Sprintf("#%d..#%d", n, t.Plan), Number: n, Outcome: Missing, Plan: -1})
				break
			}
			t.Subtests = append(t.Subtests, &Test{Name: fmt.Sprintf("#%d", n), Number: n, Outcome: Missing, Plan: -1})
		}
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

// Case is a leaf test with its full name ("suite.case").
type Case struct {
	Path    string
	Outcome Outcome
	// Reason is the SKIP reason, the problems or the diagnostics of a
	// failed case.
	Reason string
}

// Cases lists the leaf tests under t, depth first, with dotted paths. A
// test with problems of its own is listed too, as FAIL.
func (t *Test) Cases() []Case {
	var out []Case
	var walk func(t *Test, prefix string)
	walk = func(t *Test, prefix string) {
		path := t.Name
		if prefix != "" {
			path = prefix + "." + t.Name
		}
		if t.Name == "" {
			path = prefix
		}
		if len(t.Problems) > 0 {
			out = append(out, Case{Path: nonEmpty(path, "ktap"), Outcome: Fail, Reason: strings.Join(t.Problems, "; ")})
		}
		if len(t.Subtests) == 0 {
			if t.Name != "" {
				c := Case{Path: path, Outcome: t.Outcome, Reason: t.Directive}
				if t.Outcome == Fail && len(t.Diagnostics) > 0 {
					c.Reason = strings.Join(t.Diagnostics, "; ")
				}
				out = append(out, c)
			}
			return
		}
		for _, s := range t.Subtests {
			walk(s, path)
		}
	}
	walk(t, "")
	return out
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
