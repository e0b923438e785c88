package verdict

import (
	"fmt"
	"regexp/syntax"
	"strings"
)

// nearest returns the logged line that looks most like what pattern
// wanted, for a failure message: the line holding the most of the
// pattern's literal text (at least half of it, and at least 8 bytes). A
// missing "oom_try invoked oom-killer:" then shows the line
// "lkmtest-agent invoked oom-killer: ..." that was logged instead.
func nearest(pattern string, lines []logLine) (string, bool) {
	lits := literals(pattern)
	total := 0
	for _, l := range lits {
		total += len(l)
	}
	if total < 8 {
		return "", false
	}
	best, bestScore := "", 0
	for _, l := range lines {
		score := 0
		for _, lit := range lits {
			if strings.Contains(l.text, lit) {
				score += len(lit)
			}
		}
		if score > bestScore {
			best, bestScore = l.text, score
		}
	}
	if bestScore < 8 || 2*bestScore < total {
		return "", false
	}
	return best, true
}

// literals lists the words (runs between spaces, two bytes or more) of
// the literal text in pattern, case folded text left out, so that a line
// with one word changed still shares the others. A pattern that does not
// parse has none.
func literals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []string
	var walk func(*syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpLiteral:
			if r.Flags&syntax.FoldCase == 0 && len(r.Rune) > 1 {
				for _, w := range strings.Fields(string(r.Rune)) {
					if len(w) > 1 {
						out = append(out, w)
					}
				}
			}
		case syntax.OpConcat, syntax.OpCapture:
			for _, s := range r.Sub {
				walk(s)
			}
		}
	}
	walk(re)
	return out
}

// nearNote is the "; nearest line: ..." part of a missing line's message,
// or "" when no logged line comes close.
func nearNote(pattern string, lines []logLine) string {
	l, ok := nearest(pattern, lines)
	if !ok {
		return ""
	}
	return fmt.Sprintf("; nearest line logged: %q", l)
}
