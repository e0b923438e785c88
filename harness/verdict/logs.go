package verdict

import (
	"fmt"
	"regexp"

	"github.com/lkmtest/lkmtest/harness/spec"
)

// matchLog checks the step's log expectations and returns why they fail
// ("" when they hold).
func (j *Judge) matchLog(st *spec.Step, lines []logLine) string {
	n := len(lines)
	// Ordered: each expectation matches a line after the previous one.
	from := 0
	for k := range st.Log {
		e := &st.Log[k]
		re, err := e.Regexp(j.Vars)
		if err != nil {
			return err.Error()
		}
		at := -1
		for i := from; i < n; i++ {
			if j.matches(e, re, lines[i]) {
				at = i
				break
			}
		}
		if at < 0 {
			what := "did not appear in the kernel log of the step"
			if k > 0 {
				what = fmt.Sprintf("did not appear after the line matching /%s/", st.Log[k-1].Match)
			}
			return fmt.Sprintf("expected log line /%s/%s %s (%d lines logged)%s", re, levelNote(e), what, n, nearNote(re.String(), lines[from:]))
		}
		j.capture(re, lines[at].text)
		from = at + 1
		if why := j.count(e, re, lines); why != "" {
			return why
		}
	}
	// Unordered: each expectation matches some line.
	for k := range st.LogAny {
		e := &st.LogAny[k]
		re, err := e.Regexp(j.Vars)
		if err != nil {
			return err.Error()
		}
		found := false
		for _, l := range lines {
			if j.matches(e, re, l) {
				j.capture(re, l.text)
				found = true
				break
			}
		}
		if !found {
			return fmt.Sprintf("expected log line /%s/%s did not appear in the kernel log of the step (%d lines logged)%s", re, levelNote(e), n, nearNote(re.String(), lines))
		}
		if why := j.count(e, re, lines); why != "" {
			return why
		}
	}
	// Absent: no line matches.
	for k := range st.LogAbsent {
		e := &st.LogAbsent[k]
		re, err := e.Regexp(j.Vars)
		if err != nil {
			return err.Error()
		}
		for _, l := range lines {
			if j.matches(e, re, l) {
				return fmt.Sprintf("log line %q matches /%s/, which must not appear", l.text, re)
			}
		}
	}
	return ""
}

func (j *Judge) matches(e *spec.LogExpect, re *regexp.Regexp, l logLine) bool {
	return (e.LevelNum < 0 || e.LevelNum == l.level) && re.MatchString(l.text)
}

// count checks an expectation's exact count, when it has one.
func (j *Judge) count(e *spec.LogExpect, re *regexp.Regexp, lines []logLine) string {
	if e.Count == 0 {
		return ""
	}
	c := 0
	for _, l := range lines {
		if j.matches(e, re, l) {
			c++
		}
	}
	if c != e.Count {
		return fmt.Sprintf("log line /%s/%s appeared %d times, expected %d", re, levelNote(e), c, e.Count)
	}
	return ""
}

// capture stores the named groups of re's match in text.
func (j *Judge) capture(re *regexp.Regexp, text string) {
	m := re.FindStringSubmatch(text)
	for i, name := range re.SubexpNames() {
		if name != "" && i < len(m) {
			j.Vars[name] = m[i]
		}
	}
}

func levelNote(e *spec.LogExpect) string {
	if e.LevelNum < 0 {
		return ""
	}
	return " at level " + spec.LevelName(e.LevelNum)
}
