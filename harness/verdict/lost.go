package verdict

import (
	"fmt"
	"os"
	"strings"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/qemu"
)

// excerptLines is how many console lines a lost guest's excerpt shows: a
// crash report from its header on, else the console's last lines.
const excerptLines = 30

// JudgeLost sets the outcome of a test whose guest stopped answering, from
// its console lines: CRASH when they hold a crash report, else TIMEOUT when
// the host gave up waiting, else LOST. when says at which point ("during
// the step"); exit is how QEMU ended; sym (may be nil) symbolizes the
// reports' frames. The step in progress, if any (the
// last step, with no outcome yet), gets the same outcome.
func JudgeLost(res *Result, lines []string, when string, timedOut bool, exit string, sym Symbolizer) {
	reports := klog.Find(lines)
	symbolizeAll(sym, reports)
	res.Reports = reports
	if len(reports) > 0 {
		from := reports[0].Line
		res.Excerpt = withLocations(lines, reports)[from:min(len(lines), from+excerptLines)]
	} else {
		res.Excerpt = lines[max(0, len(lines)-excerptLines):]
	}
	var outcome result.Outcome
	var reason string
	switch {
	case len(reports) > 0:
		outcome, reason = result.Crash, "kernel reported "+klog.Summary(reports)+" "+when
	case timedOut:
		outcome, reason = result.Timeout, "no answer from the guest "+when
	default:
		outcome, reason = result.Lost, fmt.Sprintf("the VM went away %s: %s", when, exit)
	}
	if len(res.Steps) > 0 && res.Steps[len(res.Steps)-1].Outcome == "" {
		last := &res.Steps[len(res.Steps)-1]
		last.Outcome, last.Reason = outcome, reason
		reason = fmt.Sprintf("step %d (%s): %s", last.Index, last.Step, reason)
		res.Line = last.Line
	}
	res.Outcome, res.Reason = result.Worse(res.Outcome, outcome), reason
}

// ConsoleLines reads a console log as lines, with terminal control
// sequences removed (nil when it cannot be read).
func ConsoleLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		out = append(out, qemu.CleanLine(l))
	}
	return out
}
