package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/lkmtest/lkmtest/harness/result"
)

// WriteKTAP writes the run as KTAP version 1: one subtest per cell, one
// case per test. SKIP is "ok ... # SKIP reason"; every outcome but PASS and
// SKIP is "not ok", with the outcome and reason as diagnostic lines.
func (r *Run) WriteKTAP(w io.Writer) error {
	cells := r.CellLabels()
	var b strings.Builder
	b.WriteString("KTAP version 1\n")
	fmt.Fprintf(&b, "1..%d\n", len(cells))
	for i, cell := range cells {
		var tests []result.Test
		for _, t := range r.Results {
			if t.Cell == cell {
				tests = append(tests, t)
			}
		}
		b.WriteString("    KTAP version 1\n")
		fmt.Fprintf(&b, "    # Subtest: %s\n", ktapName(cell))
		fmt.Fprintf(&b, "    1..%d\n", len(tests))
		ok := true
		for j, t := range tests {
			if cases := t.Cases(); len(cases) > 0 {
				// The test's KTAP (KUnit) cases, one level deeper.
				fmt.Fprintf(&b, "        KTAP version 1\n        # Subtest: %s\n        1..%d\n", ktapName(t.Test), len(cases))
				for k, c := range cases {
					switch c.Outcome {
					case "PASS":
						fmt.Fprintf(&b, "        ok %d %s\n", k+1, ktapName(c.Name))
					case "SKIP":
						fmt.Fprintf(&b, "        ok %d %s # SKIP %s\n", k+1, ktapName(c.Name), oneLine(c.Reason))
					default:
						if c.Reason != "" {
							fmt.Fprintf(&b, "        # %s\n", oneLine(c.Reason))
						}
						fmt.Fprintf(&b, "        not ok %d %s\n", k+1, ktapName(c.Name))
					}
				}
			}
			switch t.Outcome {
			case result.Pass:
				fmt.Fprintf(&b, "    ok %d %s\n", j+1, ktapName(t.Test))
			case result.Skip:
				fmt.Fprintf(&b, "    ok %d %s # SKIP %s\n", j+1, ktapName(t.Test), oneLine(t.Reason))
			default:
				ok = false
				fmt.Fprintf(&b, "    # %s: %s\n", t.Outcome, oneLine(t.Reason))
				if w := t.Where(); w != "" {
					fmt.Fprintf(&b, "    # at %s\n", w)
				}
				fmt.Fprintf(&b, "    not ok %d %s\n", j+1, ktapName(t.Test))
			}
		}
		result := "ok"
		if !ok {
			result = "not ok"
		}
		fmt.Fprintf(&b, "%s %d %s\n", result, i+1, ktapName(cell))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ktapName keeps a name to one word-safe token: "#" would start a
// directive.
func ktapName(s string) string { return strings.ReplaceAll(oneLine(s), "#", "_") }

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
