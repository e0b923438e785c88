package verdict

import (
	"fmt"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// Outcome is how a test or step ended.
type Outcome string

// The outcomes, from best to worst.
const (
	// Pass: every step did what the spec expects.
	Pass Outcome = "PASS"
	// Skip: the test did not run (an unmet requirement); never a pass.
	Skip Outcome = "SKIP"
	// Fail: a step's result or kernel log differs from the spec.
	Fail Outcome = "FAIL"
	// Timeout: a step or the test did not finish in time.
	Timeout Outcome = "TIMEOUT"
	// Crash: the kernel reported a crash (oops, BUG, WARNING, panic...).
	Crash Outcome = "CRASH"
	// Lost: the VM or its agent went away without a crash report.
	Lost Outcome = "LOST"
	// Error: lkmtest could not run the test (module build, boot setup).
	Error Outcome = "ERROR"
)

var rank = map[Outcome]int{Pass: 0, Skip: 1, Fail: 2, Timeout: 3, Crash: 4, Lost: 5, Error: 6}

// Worse returns the worse of two outcomes.
func Worse(a, b Outcome) Outcome {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// StepResult is the judged result of one step.
type StepResult struct {
	// Index is the step's position (1-based) and Line its spec line.
	Index int `json:"index"`
	Line  int `json:"line"`
	// Step describes it ("insmod helloworld_lkm").
	Step string `json:"step"`
	// Outcome and Reason are the verdict.
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Errno and Signal are what the guest reported.
	Errno  string `json:"errno,omitempty"`
	Signal string `json:"signal,omitempty"`
	// Records are the kernel log records of the step's window.
	Records []klog.Record `json:"records,omitempty"`
	// Reports are the crash reports found in them.
	Reports []klog.Report `json:"reports,omitempty"`
	// Duration is how long the step ran in the guest.
	Duration time.Duration `json:"duration_ns"`
}

// Result is the verdict of one test on one kernel and arch.
type Result struct {
	// Test is the spec's name; File its path.
	Test string `json:"test"`
	File string `json:"file"`
	// Kernel and Arch say where it ran.
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	// Outcome and Reason are the verdict.
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Line is the spec line the reason points at (0: none).
	Line int `json:"line,omitempty"`
	// Steps are the judged steps, in order (those that ran).
	Steps []StepResult `json:"steps"`
	// Reports are crash reports seen outside the steps (console log).
	Reports []klog.Report `json:"reports,omitempty"`
	// Excerpt is kernel log context for a failure.
	Excerpt []string `json:"excerpt,omitempty"`
	// Duration is the test's wall time; Boot the time to the agent's hello.
	Duration time.Duration `json:"duration_ns"`
	Boot     time.Duration `json:"boot_ns"`
	// Modules is the time from the test's start until its modules were built.
	Modules time.Duration `json:"modules_ns"`
	// Snapshot is true when the VM started from a saved booted state
	// rather than a boot.
	Snapshot bool `json:"snapshot,omitempty"`
	// Dir holds the run's artefacts (console log, qemu command line).
	Dir string `json:"dir,omitempty"`
}

// Add folds a step result into the test result: the first step that does
// not pass sets the test's outcome and reason.
func (r *Result) Add(s StepResult) {
	r.Steps = append(r.Steps, s)
	if s.Outcome != Pass && rank[s.Outcome] > rank[r.Outcome] {
		r.Outcome, r.Reason, r.Line = s.Outcome, fmt.Sprintf("step %d (%s): %s", s.Index, s.Step, s.Reason), s.Line
		r.Excerpt = excerpt(s.Records, s.Reports, 30)
	}
}

// Stop reports whether a step outcome leaves the VM unusable for more steps.
func Stop(o Outcome) bool { return o == Crash || o == Timeout || o == Lost || o == Error }

// JudgeStep compares the agent's response to a step with the spec.
func JudgeStep(index int, st *spec.Step, resp guest.Response) StepResult {
	r := StepResult{Index: index, Line: st.Line, Step: st.String(), Outcome: Pass,
		Errno: resp.Errno, Signal: resp.Signal, Records: resp.Records,
		Duration: time.Duration(resp.DurationUS) * time.Microsecond}
	var lines []string
	for _, rec := range resp.Records {
		lines = append(lines, rec.Lines()...)
	}
	r.Reports = klog.Find(lines)
	switch {
	case resp.Error != "":
		r.Outcome, r.Reason = Error, "guest agent: "+resp.Error
	case len(r.Reports) > 0:
		r.Outcome, r.Reason = Crash, "kernel reported "+klog.Summary(r.Reports)
		if resp.Signal != "" {
			r.Reason += fmt.Sprintf(" (%s was killed by %s)", st.Kind(), resp.Signal)
		}
	case resp.Timeout:
		r.Outcome, r.Reason = Timeout, fmt.Sprintf("did not finish within %s", st.Timeout.Std())
	case resp.Signal != "":
		r.Outcome, r.Reason = Crash, fmt.Sprintf("%s was killed by %s", st.Kind(), resp.Signal)
	default:
		got := resp.Errno
		if got == "" {
			got = "ok"
		}
		if got != st.Expect {
			r.Outcome = Fail
			if st.Expect == "ok" {
				r.Reason = fmt.Sprintf("%s failed with %s, expected success", st.Kind(), got)
			} else {
				r.Reason = fmt.Sprintf("%s returned %s, expected %s", st.Kind(), got, st.Expect)
			}
			break
		}
		if missing := matchOrdered(st, lines); missing != "" {
			r.Outcome, r.Reason = Fail, missing
		}
	}
	return r
}

// matchOrdered checks that the step's log patterns match lines in order and
// returns a description of the first one that does not ("" if all do).
func matchOrdered(st *spec.Step, lines []string) string {
	i := 0
	for k, re := range st.Patterns {
		found := false
		for ; i < len(lines); i++ {
			if re.MatchString(lines[i]) {
				found, i = true, i+1
				break
			}
		}
		if !found {
			what := "did not appear in the kernel log of the step"
			if k > 0 {
				what = fmt.Sprintf("did not appear after the line matching /%s/", st.Patterns[k-1])
			}
			return fmt.Sprintf("expected log line /%s/ %s (%d lines logged)", re, what, len(lines))
		}
	}
	return ""
}

// excerpt is the kernel log to show for a failure: from the first crash
// report's header when there is one, else the last n lines.
func excerpt(recs []klog.Record, reports []klog.Report, n int) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Lines()...)
	}
	if len(reports) > 0 {
		from := max(0, reports[0].Line-2)
		out = out[from:min(len(out), from+n)]
	} else if len(out) > n {
		out = append([]string{"..."}, out[len(out)-n:]...)
	}
	return out
}

// Summary is a one-line description of a result.
func (r *Result) Summary() string {
	s := fmt.Sprintf("%-7s %s [%s %s]", r.Outcome, r.Test, r.Kernel, r.Arch)
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// Indent prefixes each line of s.
func Indent(lines []string, prefix string) string {
	return prefix + strings.Join(lines, "\n"+prefix)
}
