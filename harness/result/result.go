package result

import (
	"fmt"
	"path/filepath"
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

// Outcomes lists every outcome, best first.
func Outcomes() []Outcome { return []Outcome{Pass, Skip, Fail, Timeout, Crash, Lost, Error} }

// Failed reports whether o is a failure: anything but PASS and SKIP.
func (o Outcome) Failed() bool { return o != Pass && o != Skip }

// Stops reports whether a step that ended so leaves the VM unusable for
// more steps.
func (o Outcome) Stops() bool { return o == Crash || o == Timeout || o == Lost || o == Error }

// Worse returns the worse of two outcomes.
func Worse(a, b Outcome) Outcome {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Schema names the format of a Test (result.json). It changes only when a
// field changes meaning or goes away.
const Schema = "lkmtest.result/v1"

// Test is the record of one test on one cell.
type Test struct {
	// Schema is Schema in a result.json; "" inside a results.json, whose
	// own schema covers it.
	Schema string `json:"schema,omitempty"`
	// Test is the test's name; File its spec (as given on the command
	// line or found in the suite) and Line the spec line the reason
	// points at (0: none).
	Test string `json:"test"`
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	// Cell is the cell's label; Kernel the kernel release that ran
	// ("6.1.192"; as asked when it was never built), Arch the guest arch
	// and Variant the spec's kernel variant (boot.config), if any.
	Cell    string `json:"cell"`
	Kernel  string `json:"kernel"`
	Arch    string `json:"arch"`
	Variant string `json:"variant,omitempty"`
	// Kind is "" for a test booted and judged ('lkmtest run') and
	// KindBuild for a compile-only result ('lkmtest build'): a module's
	// build and its test on one cell are two results, never one twice.
	Kind string `json:"kind,omitempty"`
	// Outcome is PASS, SKIP, FAIL, TIMEOUT, CRASH, LOST or ERROR; Reason
	// says why it is not PASS (or why SKIP).
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Stage is, for ERROR, the stage that failed (see Stage).
	Stage Stage `json:"stage,omitempty"`
	// DurationNS is the test's wall time, BootNS until the guest agent
	// answered, ModulesNS until the modules were built.
	DurationNS int64 `json:"duration_ns"`
	BootNS     int64 `json:"boot_ns,omitempty"`
	ModulesNS  int64 `json:"modules_ns,omitempty"`
	// Modules are the test's module source directories (where a crash
	// report's source line is looked up).
	Modules []string `json:"modules,omitempty"`
	// Snapshot is true when the VM was restored rather than booted.
	Snapshot bool `json:"snapshot,omitempty"`
	// Standby is true when the restored VM was a standby's: restored and
	// warmed up by the previous run's standby process.
	Standby bool `json:"standby,omitempty"`
	// ReusedAfter names the test whose VM this one ran in, kept because
	// that test passed and left the guest as it found it.
	ReusedAfter string `json:"reused_after,omitempty"`
	// FirstAttempt: how the test's attempt in a kept VM ended, when it
	// did not pass there and ran again in a VM of its own (its files are
	// in the test's first-attempt directory).
	FirstAttempt string `json:"first_attempt,omitempty"`
	// Steps are the steps that ran.
	Steps []Step `json:"steps,omitempty"`
	// Crashes are the kernel's crash reports (allowed ones included).
	Crashes []CrashReport `json:"crashes,omitempty"`
	// Excerpt is kernel log context of a failure.
	Excerpt []string `json:"excerpt,omitempty"`
	// Dir holds the test's artefacts (console.log, agent.log, result.json).
	Dir string `json:"dir,omitempty"`
	// SpecLess is true for the smoke test of a module directory that has
	// no test.yaml (its steps were written by lkmtest: spec.yaml in Dir).
	SpecLess bool `json:"spec_less,omitempty"`
}

// KindBuild is the Kind of a compile-only result ('lkmtest build').
const KindBuild = "build"

// Row names the result in tables and reports: the test's name, "name
// (build)" for a compile-only result.
func (t Test) Row() string {
	if t.Kind != "" {
		return t.Test + " (" + t.Kind + ")"
	}
	return t.Test
}

// Step is one judged step.
type Step struct {
	Index      int     `json:"index"`
	Line       int     `json:"line"`
	Step       string  `json:"step"`
	Outcome    Outcome `json:"outcome"`
	Reason     string  `json:"reason,omitempty"`
	DurationNS int64   `json:"duration_ns"`
	// Cases are the KTAP (KUnit) test cases the step printed.
	Cases []Case `json:"cases,omitempty"`
}

// Case is one KTAP test case of a step ("suite.case").
type Case struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Summary is the test's one-line verdict: "FAIL    hello [6.1.192
// x86_64]: step 2 (...): ...".
func (t Test) Summary() string {
	s := fmt.Sprintf("%-7s %s [%s %s]", t.Outcome, t.Test, t.Kernel, t.Arch)
	if t.SpecLess {
		s += " (no test.yaml: smoke test)"
	}
	if t.Reason != "" {
		s += ": " + t.Reason
	}
	return s
}

// SavedSpec is the copy of its spec a test's run directory keeps (for a
// smoke test, the spec lkmtest wrote).
const SavedSpec = "spec.yaml"

// Where is where a failure is, for people: "dir/test.yaml:12"; for a
// smoke test, which has no test.yaml, the step's line of the spec
// lkmtest wrote into the run directory. "" without a line.
func (t Test) Where() string {
	switch {
	case t.Line == 0:
		return ""
	case t.SpecLess && t.Dir != "":
		return fmt.Sprintf("%s:%d (the smoke test of %s, which has no %s)", filepath.Join(t.Dir, SavedSpec), t.Line, filepath.Dir(t.File), filepath.Base(t.File))
	}
	return fmt.Sprintf("%s:%d", t.File, t.Line)
}

// CellOf is the cell the test ran on.
func (t Test) CellOf() Cell { return Cell{Kernel: t.Kernel, Arch: t.Arch, Variant: t.Variant} }

// Cases lists every KTAP case of the test's steps.
func (t Test) Cases() []Case {
	var out []Case
	for _, s := range t.Steps {
		out = append(out, s.Cases...)
	}
	return out
}

// CrashReport is a crash report of the kernel log.
type CrashReport struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	// Module is the module of the faulting function; Source the module
	// source line the report names ("crash.c:23"), when it names one.
	Module string `json:"module,omitempty"`
	Source string `json:"source,omitempty"`
	// Allowed is true when the spec allows the report.
	Allowed bool `json:"allowed,omitempty"`
	// Incomplete is true when the log ends inside the report.
	Incomplete bool `json:"incomplete,omitempty"`
	// Step is the step it appeared in (0: outside every step).
	Step int `json:"step,omitempty"`
	// Frames are the report's stack, the faulting function first, with
	// the source lines of the test's own modules' frames.
	Frames []Frame `json:"frames,omitempty"`
}

// Frame is one function of a crash report's stack.
type Frame struct {
	Func   string `json:"func"`
	Module string `json:"module,omitempty"`
	// Kind is "pc" (the faulting instruction), "lr" or "call".
	Kind string `json:"kind"`
	// File and Line are its source line (frames of the test's modules);
	// NoLine says why such a frame has none (a module without debug info).
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	NoLine string `json:"no_line,omitempty"`
	// Unreliable marks x86's "? func" guesses.
	Unreliable bool `json:"unreliable,omitempty"`
}
