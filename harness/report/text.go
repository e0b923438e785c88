package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lkmtest/lkmtest/harness/result"
)

// Indent prefixes each line.
func Indent(lines []string, prefix string) string {
	return prefix + strings.Join(lines, "\n"+prefix)
}

// testMajor is the results test by test (in the order tests first
// appear), each test's in cell order.
func (r *Run) testMajor() []result.Test {
	var names []string
	byName := map[string][]result.Test{}
	for _, t := range r.Results {
		if _, ok := byName[t.Row()]; !ok {
			names = append(names, t.Row())
		}
		byName[t.Row()] = append(byName[t.Row()], t)
	}
	var out []result.Test
	for _, n := range names {
		out = append(out, byName[n]...)
	}
	return out
}

// WriteTable writes the matrix: a row per test, a column per cell as
// asked (a test's kernel variant shows in its base cell's column).
func (r *Run) WriteTable(w io.Writer) error {
	var cols []string
	for _, c := range r.Cells {
		if c.Variant == "" {
			cols = append(cols, c.Label())
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "TEST")
	for _, c := range cols {
		fmt.Fprintf(tw, "\t%s", c)
	}
	fmt.Fprintln(tw)
	var names []string
	cell := map[string]map[string]result.Test{}
	for _, t := range r.testMajor() {
		if cell[t.Row()] == nil {
			names = append(names, t.Row())
			cell[t.Row()] = map[string]result.Test{}
		}
		cell[t.Row()][t.CellOf().Base().Label()] = t
	}
	for _, n := range names {
		name := n
		for _, t := range cell[n] {
			if t.SpecLess {
				name += " (no spec)"
				break
			}
		}
		fmt.Fprint(tw, name)
		for _, c := range cols {
			t, ok := cell[n][c]
			switch {
			case !ok:
				fmt.Fprint(tw, "\t-")
			case t.DurationNS > 0:
				fmt.Fprintf(tw, "\t%s %.1fs", t.Outcome, time.Duration(t.DurationNS).Seconds())
			default:
				fmt.Fprintf(tw, "\t%s", t.Outcome)
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// WriteText writes a line per test (only the failed ones with
// onlyFailures, and those that passed only when run again in a VM of
// their own), each failure's spec line, kernel log excerpt and logs, and
// the totals.
func (r *Run) WriteText(w io.Writer, onlyFailures bool) error {
	for _, t := range r.testMajor() {
		bad := t.Outcome.Failed()
		if !onlyFailures || bad || t.FirstAttempt != "" {
			fmt.Fprintf(w, "%s (%.1fs)\n", t.Summary(), time.Duration(t.DurationNS).Seconds())
			for _, c := range t.Cases() {
				line := fmt.Sprintf("    %-7s %s", c.Outcome, c.Name)
				if c.Reason != "" && c.Outcome != string(result.Pass) {
					line += ": " + c.Reason
				}
				fmt.Fprintln(w, line)
			}
		}
		if bad {
			if where := t.Where(); where != "" {
				fmt.Fprintf(w, "    at %s\n", where)
			}
			if len(t.Excerpt) > 0 {
				fmt.Fprintf(w, "    kernel log:\n%s\n", Indent(t.Excerpt, "      | "))
			}
			fmt.Fprintf(w, "    logs: %s\n", t.Dir)
		}
		if t.FirstAttempt != "" {
			// A test that passed only in a VM of its own: left-over
			// state of the test before it, or a flake of its own.
			fmt.Fprintf(w, "    first attempt: %s\n    its logs: %s\n", t.FirstAttempt, filepath.Join(t.Dir, "first-attempt"))
		}
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", r.Totals.Passed, r.Totals.Failed, r.Totals.Skipped)
	return err
}
