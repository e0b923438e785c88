package ktap

import "strings"

// Case is a leaf test with its full name ("suite.case").
type Case struct {
	Path    string
	Outcome Outcome
	// Reason is the SKIP reason, the problems or the diagnostics of a
	// failed case.
	Reason string
}

// Cases lists the leaf tests under t, depth first, with dotted paths. A
// test with problems of its own is listed too, as FAIL, and so is a test
// whose own result line says "not ok" while none of its subtests failed.
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
		if t.result && t.Outcome == Fail && !failedBelow(t) {
			why := "not ok, though none of its subtests failed"
			if len(t.Diagnostics) > 0 {
				why += ": " + strings.Join(t.Diagnostics, "; ")
			}
			out = append(out, Case{Path: nonEmpty(path, "ktap"), Outcome: Fail, Reason: why})
		}
		for _, s := range t.Subtests {
			walk(s, path)
		}
	}
	walk(t, "")
	return out
}

// failedBelow reports whether a test under t failed or is missing.
func failedBelow(t *Test) bool {
	for _, s := range t.Subtests {
		if s.Outcome == Fail || s.Outcome == Missing || len(s.Problems) > 0 || failedBelow(s) {
			return true
		}
	}
	return false
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
