package verdict

import (
	"fmt"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/result"
)

// AddLeaks adds kmemleak's reports of the test's modules to the result: to
// its last step (a scan after that step's rmmod) or, atEnd, to the test.
// Each makes it CRASH, the reports' allocation traces its excerpt.
func AddLeaks(res *Result, reps []klog.Report, atEnd bool) {
	if len(reps) == 0 {
		return
	}
	reason := "kmemleak reported " + klog.Summary(reps)
	if atEnd || len(res.Steps) == 0 {
		res.Reports = append(res.Reports, reps...)
		reason += " at the test's end"
		if result.Worse(res.Outcome, result.Crash) != res.Outcome {
			res.Outcome, res.Reason, res.Line = result.Crash, reason, 0
			res.Excerpt = leakExcerpt(reps)
		}
		return
	}
	last := &res.Steps[len(res.Steps)-1]
	last.Reports = append(last.Reports, reps...)
	if last.Outcome == result.Pass {
		last.Outcome, last.Reason = result.Crash, reason+" after the module was unloaded"
	}
	if result.Worse(res.Outcome, result.Crash) != res.Outcome {
		res.Outcome, res.Line = result.Crash, last.Line
		res.Reason = fmt.Sprintf("step %d (%s): %s", last.Index, last.Step, last.Reason)
		res.Excerpt = leakExcerpt(reps)
	}
}

// leakExcerpt shows each leak and its allocation trace, symbolized.
func leakExcerpt(reps []klog.Report) []string {
	var out []string
	for _, r := range reps {
		out = append(out, r.Header)
		for _, f := range r.Frames {
			line := fmt.Sprintf("  %#x", f.Addr)
			if f.Func != "" {
				line = fmt.Sprintf("  %s+%#x/%#x", f.Func, f.Off, f.Size)
			}
			if f.Module != "" {
				line += " [" + f.Module + "]"
			}
			if f.File != "" {
				line += fmt.Sprintf(" (%s:%d)", f.File, f.LineNo)
			}
			out = append(out, line)
		}
	}
	return out
}
