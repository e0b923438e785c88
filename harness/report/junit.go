package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/lkmtest/lkmtest/harness/result"
)

// JUnit returns the run as JUnit test suites: one suite per cell (a
// spec's kernel variant is a cell of its own), one test case per test. FAIL is a failure; CRASH, TIMEOUT and LOST
// are failures whose type says which; ERROR (lkmtest could not run the
// test) is an error; SKIP is skipped with its reason.
func (r *Run) JUnit() junit.Testsuites {
	var out junit.Testsuites
	index := map[string]int{}
	var suites []*junit.Testsuite
	for _, t := range r.Results {
		name := t.Cell
		i, ok := index[name]
		if !ok {
			i = len(suites)
			index[name] = i
			ts := &junit.Testsuite{Name: name, Package: "lkmtest", Timestamp: r.Started.Format(time.RFC3339)}
			ts.AddProperty("kernel", t.Kernel)
			ts.AddProperty("arch", t.Arch)
			if t.Variant != "" {
				ts.AddProperty("variant", t.Variant)
			}
			suites = append(suites, ts)
		}
		suites[i].AddTestcase(testcase(t))
		// KTAP (KUnit) cases are test cases of their own, named after
		// the test: "kunit-example/example.example_simple_test".
		for _, c := range t.Cases() {
			tc := junit.Testcase{Name: t.Test + "/" + c.Name, Classname: t.Cell, Time: seconds(0)}
			switch c.Outcome {
			case "PASS":
			case "SKIP":
				tc.Skipped = &junit.Result{Message: c.Reason}
			default:
				tc.Failure = &junit.Result{Message: c.Reason, Type: "KTAP " + c.Outcome, Data: c.Name + ": " + c.Outcome + " " + c.Reason}
			}
			suites[i].AddTestcase(tc)
		}
	}
	for _, ts := range suites {
		var d time.Duration
		for _, tc := range ts.Testcases {
			if v, err := time.ParseDuration(tc.Time + "s"); err == nil {
				d += v
			}
		}
		ts.Time = seconds(d)
		out.AddSuite(*ts)
	}
	return out
}

func testcase(t result.Test) junit.Testcase {
	tc := junit.Testcase{Name: t.Row(), Classname: t.Cell, Time: seconds(time.Duration(t.DurationNS))}
	msg := t.Reason
	detail := failureText(t)
	switch t.Outcome {
	case result.Pass:
	case result.Skip:
		tc.Skipped = &junit.Result{Message: msg}
	case result.Error:
		tc.Error = &junit.Result{Message: msg, Type: string(t.Outcome), Data: detail}
	default:
		tc.Failure = &junit.Result{Message: msg, Type: string(t.Outcome), Data: detail}
	}
	if t.Dir != "" {
		tc.SystemOut = &junit.Output{Data: "artefacts: " + t.Dir}
	}
	return tc
}

// failureText is a failure's reason, spec location and kernel log context.
func failureText(t result.Test) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s: %s\n", t.Outcome, t.Test, t.Cell, t.Reason)
	if w := t.Where(); w != "" {
		fmt.Fprintf(&b, "at %s\n", w)
	}
	for _, c := range t.Crashes {
		if !c.Allowed {
			fmt.Fprintf(&b, "crash: %s (%s)\n", c.Title, c.Kind)
		}
	}
	if len(t.Excerpt) > 0 {
		b.WriteString("kernel log:\n")
		for _, l := range t.Excerpt {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the run as JUnit XML.
func (r *Run) WriteJUnit(w io.Writer) error {
	suites := r.JUnit()
	return suites.WriteXML(w)
}
