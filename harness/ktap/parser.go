package ktap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The KTAP lines classify tells apart, and KUnit 6.1's suite_init failure.
var (
	versionRE = regexp.MustCompile(`^(KTAP|TAP) version (\d+)$`)
	planRE    = regexp.MustCompile(`^1\.\.(\d+)`)
	resultRE  = regexp.MustCompile(`^(ok|not ok) (\d+)(?: -)?(?: ([^#]*?))?\s*(?:#\s*(.*))?$`)
	subtestRE = regexp.MustCompile(`^# Subtest: (.*)$`)
	// initFailRE is the line KUnit prints for a suite whose suite_init
	// failed, before the suite's "not ok" line and instead of its block.
	initFailRE = regexp.MustCompile(`^ {4}# \S+: +# failed to initialize \(-?\d+\)$`)
)

// kind classifies a KTAP line.
type kind int

const (
	blank   kind = iota
	text         // a diagnostic ("# ...") or any other line
	version      // "KTAP version 1", "TAP version 14"
	plan         // "1..N"
	subtest      // "# Subtest: NAME"
	result       // "ok N NAME", "not ok N NAME # SKIP why"
)

// structural reports whether k shapes the tree (as opposed to diagnostics).
func (k kind) structural() bool { return k >= version }

// line is one input line: its depth (4 spaces per level), trimmed text and
// kind.
type line struct {
	depth int
	text  string
	kind  kind
}

func classify(s string) line {
	n := len(s) - len(strings.TrimLeft(s, " "))
	l := line{depth: n / 4, text: strings.TrimSpace(s)}
	switch {
	case l.text == "":
		l.kind = blank
	case versionRE.MatchString(l.text):
		l.kind = version
	case planRE.MatchString(l.text):
		l.kind = plan
	case subtestRE.MatchString(l.text):
		l.kind = subtest
	case resultRE.MatchString(l.text):
		l.kind = result
	default:
		l.kind = text
	}
	return l
}

// diagText is a diagnostic line as kept: without its "#".
func diagText(l line) string {
	return strings.TrimSpace(strings.TrimPrefix(l.text, "#"))
}

type parser struct {
	lines []line
	pos   int
	// next[i] is the index of the first structural line at or after i
	// (len(lines) when there is none).
	next []int
}

func newParser(in []string) *parser {
	p := &parser{lines: make([]line, len(in)), next: make([]int, len(in)+1)}
	for i, s := range in {
		p.lines[i] = classify(s)
	}
	p.next[len(in)] = len(in)
	for i := len(in) - 1; i >= 0; i-- {
		p.next[i] = p.next[i+1]
		if p.lines[i].kind.structural() {
			p.next[i] = i
		}
	}
	return p
}

// segment is a run of a test's subtests under one plan: the whole of a
// nested test, or one part of the top level.
type segment struct {
	start int // index in Subtests of its first test
	plan  int // announced number of tests (-1 when none)
	// loose: KUnit 6.1's top level, whose numbering may start anywhere
	// and restart at 1.
	loose bool
	last  int // number of the last result
}

// body parses the lines of t at depth until a line that ends t: a
// structural line of a shallower depth or, below the top level, a version
// or "# Subtest:" line of its own depth once it has content (the next
// test, t's result line missing).
func (p *parser) body(t *Test, depth int, loose bool) {
	seg := &segment{plan: -1, loose: loose}
	var diag []string // diagnostics since the last result line
	defer func() {
		p.endSegment(t, seg)
		t.Diagnostics = append(t.Diagnostics, diag...)
	}()
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		switch {
		case l.kind == blank:
			p.pos++
			continue
		case l.depth < depth:
			if l.kind == text && p.continues(p.pos, depth) {
				diag = append(diag, diagText(l))
				p.pos++
				continue
			}
			return
		case l.depth > depth:
			if l.kind != version && l.kind != subtest {
				// A deeper line that opens nothing: part of a diagnostic.
				diag = append(diag, diagText(l))
				p.pos++
				continue
			}
			p.nested(t, seg, depth, diag)
			diag = nil
			continue
		}
		content := seg.plan >= 0 || len(t.Subtests) > seg.start
		switch l.kind {
		case version:
			if content {
				if depth > 0 {
					return
				}
				// A second document at the top level (another module).
				p.endSegment(t, seg)
				seg = &segment{start: len(t.Subtests), plan: -1}
			}
		case subtest:
			if content && depth > 0 {
				return
			}
			// "# Subtest: NAME" names the test it opens (the result line's
			// description, when there is one, wins).
			if t.Name == "" && len(t.Subtests) == 0 {
				t.Name = subtestRE.FindStringSubmatch(l.text)[1]
			}
		case plan:
			n, _ := strconv.Atoi(planRE.FindStringSubmatch(l.text)[1])
			if seg.plan >= 0 {
				t.Problems = append(t.Problems, fmt.Sprintf("second plan %q", l.text))
			}
			seg.plan = n
		case result:
			sub := &Test{Plan: -1, Diagnostics: diag}
			diag = nil
			p.result(t, seg, sub, l.text)
		default:
			diag = append(diag, diagText(l))
		}
		p.pos++
	}
}

// continues reports whether the test at depth goes on after the
// diagnostic line at i: the next structural line is at depth or deeper.
func (p *parser) continues(i, depth int) bool {
	j := p.next[i]
	return j < len(p.lines) && p.lines[j].depth >= depth
}

// nested parses the subtest that opens at p.pos (a deeper version or
// "# Subtest:" line) and its result line, which follows at depth, perhaps
// after diagnostics (KUnit prints the suite's "# name: pass:N ..." and
// "# Totals: ..." lines first). diag are t's pending diagnostics: they go
// to the subtest.
func (p *parser) nested(t *Test, seg *segment, depth int, diag []string) {
	sub := &Test{Plan: -1}
	d := p.lines[p.pos].depth
	if p.lines[p.pos].kind == version {
		p.pos++
	}
	p.body(sub, d, false)
	sub.Diagnostics = append(append([]string(nil), diag...), sub.Diagnostics...)
	j := p.next[p.pos]
	if j < len(p.lines) && p.lines[j].kind == result && p.lines[j].depth == depth {
		for k := p.pos; k < j; k++ {
			if p.lines[k].kind == text {
				sub.Diagnostics = append(sub.Diagnostics, diagText(p.lines[k]))
			}
		}
		p.pos = j + 1
		p.result(t, seg, sub, p.lines[j].text)
		return
	}
	sub.Problems = append(sub.Problems, "no result line after the subtest")
	t.Subtests = append(t.Subtests, sub)
	seg.last++
}

// result fills sub from a result line and appends it to t.
func (p *parser) result(t *Test, seg *segment, sub *Test, text string) {
	m := resultRE.FindStringSubmatch(text)
	sub.Number, _ = strconv.Atoi(m[2])
	sub.result = true
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
	n := len(t.Subtests) - seg.start // results of the segment before this one
	want := n + 1
	ok := sub.Number == want
	if seg.loose {
		want = seg.last + 1
		ok = n == 0 || sub.Number == want || sub.Number == 1
	}
	if !ok {
		t.Problems = append(t.Problems, fmt.Sprintf("test %q is numbered %d, expected %d", sub.Name, sub.Number, want))
	}
	seg.last = sub.Number
	t.Subtests = append(t.Subtests, sub)
}

// maxMissing bounds the MISSING tests listed one by one for a plan.
const maxMissing = 1000

// endSegment checks a segment's plan, adds its MISSING tests, and adds
// the plan to t's.
func (p *parser) endSegment(t *Test, seg *segment) {
	if seg.plan < 0 {
		return
	}
	if t.Plan < 0 {
		t.Plan = 0
	}
	t.Plan += seg.plan
	got := len(t.Subtests) - seg.start
	if got == seg.plan {
		return
	}
	t.Problems = append(t.Problems, fmt.Sprintf("plan 1..%d but %d results", seg.plan, got))
	first := got + 1
	for n := first; n <= seg.plan; n++ {
		if n-first == maxMissing {
			// A plan can claim billions of tests: list a range instead.
			t.Subtests = append(t.Subtests, &Test{Name: fmt.Sprintf("#%d..#%d", n, seg.plan), Number: n, Outcome: Missing, Plan: -1})
			break
		}
		t.Subtests = append(t.Subtests, &Test{Name: fmt.Sprintf("#%d", n), Number: n, Outcome: Missing, Plan: -1})
	}
}
