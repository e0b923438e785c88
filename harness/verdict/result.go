package verdict

import (
	"fmt"
	"time"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/ktap"
	"github.com/lkmtest/lkmtest/harness/result"
)

// StepResult is the judged result of one step.
type StepResult struct {
	// Index is the step's position (1-based) and Line its spec line.
	Index int `json:"index"`
	Line  int `json:"line"`
	// Step describes it ("insmod helloworld_lkm").
	Step string `json:"step"`
	// Outcome and Reason are the verdict.
	Outcome result.Outcome `json:"outcome"`
	Reason  string         `json:"reason,omitempty"`
	// Errno and Signal are what the guest reported.
	Errno  string `json:"errno,omitempty"`
	Signal string `json:"signal,omitempty"`
	// Records are the kernel log records of the step's window.
	Records []klog.Record `json:"records,omitempty"`
	// Reports are the crash reports found in them; Allowed those the spec
	// allows.
	Reports []klog.Report `json:"reports,omitempty"`
	Allowed []klog.Report `json:"allowed,omitempty"`
	// Duration is how long the step ran in the guest.
	Duration time.Duration `json:"duration_ns"`
	// Missing counts the step's kernel log records that are not in Records:
	// overwritten in the kernel's ring buffer before the agent read them,
	// or left out of a flood (guest.MaxRecords).
	Missing uint64 `json:"missing_records,omitempty"`
	// Cases are the KTAP test cases the step printed (ktap: true).
	Cases []ktap.Case `json:"cases,omitempty"`
}

// Result is the verdict of one test on one kernel and arch.
type Result struct {
	// Test is the spec's name; File its path.
	Test string `json:"test"`
	File string `json:"file"`
	// Kernel and Arch say where it ran (the release, "6.1.192"), Variant
	// the spec's kernel variant; Cell is their label.
	Kernel  string `json:"kernel"`
	Arch    string `json:"arch"`
	Variant string `json:"variant,omitempty"`
	Cell    string `json:"cell"`
	// Outcome and Reason are the verdict.
	Outcome result.Outcome `json:"outcome"`
	Reason  string         `json:"reason,omitempty"`
	// Stage is, for ERROR, the stage that failed.
	Stage result.Stage `json:"stage,omitempty"`
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
	// Standby: the restored VM was a standby's (see boot.SpawnStandbys).
	Standby bool `json:"standby,omitempty"`
	// ReusedAfter names the test whose VM this one ran in: that test
	// passed and left the guest as it found it (see harness.RunTest).
	ReusedAfter string `json:"reused_after,omitempty"`
	// FirstAttempt is, for a test run again in a VM of its own after it
	// did not pass in a kept one, how that first attempt ended ("FAIL in
	// the VM of list-rwlock: step 3 ...": its files are in the test's
	// first-attempt directory).
	FirstAttempt string `json:"first_attempt,omitempty"`
	// Dir holds the run's artefacts (console log, qemu command line).
	Dir string `json:"dir,omitempty"`
	// SpecLess: the smoke test of a module directory without a test.yaml.
	SpecLess bool `json:"spec_less,omitempty"`
}

// Add folds a step result into the test result: the first step that does
// not pass sets the test's outcome and reason.
func (r *Result) Add(s StepResult) {
	r.Steps = append(r.Steps, s)
	if s.Outcome != result.Pass && result.Worse(r.Outcome, s.Outcome) != r.Outcome {
		r.Outcome, r.Reason, r.Line = s.Outcome, fmt.Sprintf("step %d (%s): %s", s.Index, s.Step, s.Reason), s.Line
		r.Excerpt = excerpt(s.Records, s.Reports, 30)
	}
}

// excerpt is the kernel log to show for a failure: from the first crash
// report's header when there is one, else the last n lines.
func excerpt(recs []klog.Record, reports []klog.Report, n int) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Lines()...)
	}
	out = withLocations(out, reports)
	if len(reports) > 0 {
		from := max(0, reports[0].Line-2)
		out = out[from:min(len(out), from+n)]
	} else if len(out) > n {
		out = append([]string{"..."}, out[len(out)-n:]...)
	}
	return out
}

// Summary is the result's one-line verdict (see result.Test.Summary).
func (r *Result) Summary() string { return r.Record().Summary() }
