package verdict

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/ktap"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
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

// Judge judges the steps of one test in order; it carries the values that
// log patterns capture for later ones (${name}).
type Judge struct {
	spec *spec.Spec
	// Vars are the captured values so far.
	Vars map[string]string
	// Env is the kernel and arch the steps ran on (for models).
	Env model.Env
	// running holds, per background program, the kernel log since it
	// started: a wait step's expectations see its program's whole life.
	running map[string][]logLine
}

// NewJudge returns a judge for the steps of s.
func NewJudge(s *spec.Spec) *Judge {
	return &Judge{spec: s, Vars: map[string]string{}, running: map[string][]logLine{}}
}

// logLine is one line of the kernel log with its record's level.
type logLine struct {
	text  string
	level int
}

// Step compares the agent's response to step index (1-based) with the spec.
func (j *Judge) Step(index int, resp guest.Response) StepResult {
	st := &j.spec.Steps[index-1]
	r := StepResult{Index: index, Line: st.Line, Step: st.String(), Outcome: result.Pass,
		Errno: resp.Errno, Signal: resp.Signal, Records: resp.Records,
		Duration: time.Duration(resp.DurationUS) * time.Microsecond, Missing: resp.Lost + resp.Dropped}
	var lines []logLine
	var texts []string
	for _, rec := range resp.Records {
		for _, l := range rec.Lines() {
			lines = append(lines, logLine{l, rec.Level})
			texts = append(texts, l)
		}
	}
	for h := range j.running {
		j.running[h] = append(j.running[h], lines...)
	}
	if st.Background != "" {
		j.running[st.Background] = append([]logLine(nil), lines...)
	}
	logLines := lines
	if st.Kind() == spec.StepWait {
		logLines = j.running[st.Wait]
		delete(j.running, st.Wait)
	}
	for _, rep := range klog.Find(texts) {
		if j.allowed(rep) {
			r.Allowed = append(r.Allowed, rep)
		} else {
			r.Reports = append(r.Reports, rep)
		}
	}
	switch {
	case resp.Error != "":
		r.Outcome, r.Reason = result.Error, "guest agent: "+resp.Error
	case len(r.Reports) > 0:
		r.Outcome, r.Reason = result.Crash, "kernel reported "+klog.Summary(r.Reports)
		if resp.Signal != "" {
			r.Reason += fmt.Sprintf(" (%s was killed by %s)", st.Kind(), resp.Signal)
		}
	case resp.Timeout:
		r.Outcome, r.Reason = result.Timeout, fmt.Sprintf("did not finish within %s", st.Timeout.Std())
	case resp.Signal != "" && st.Expect != resp.Signal && (st.Kind() == spec.StepInsmod || st.Kind() == spec.StepRmmod):
		r.Outcome, r.Reason = result.Crash, fmt.Sprintf("%s was killed by %s", st.Kind(), resp.Signal)
		if len(r.Allowed) > 0 {
			r.Reason += fmt.Sprintf(" after the allowed %s (say expect: %s if that is intended)", klog.Summary(r.Allowed), resp.Signal)
		}
	default:
		if why := stepOutcomeText(st, resp, j.Vars); why != "" {
			r.Outcome, r.Reason = result.Fail, why
		} else if why := j.matchLog(st, logLines); why != "" {
			r.Outcome, r.Reason = result.Fail, why
			if r.Missing > 0 {
				r.Reason += fmt.Sprintf(" (%d records of this step are missing from the log lkmtest saw: overwritten in the kernel's ring buffer or left out of a flood)", r.Missing)
			}
		} else if len(st.LogAbsent) > 0 && r.Missing > 0 {
			r.Outcome, r.Reason = result.Fail, fmt.Sprintf("log_absent cannot be checked: %d records of this step are missing from the log lkmtest saw (overwritten in the kernel's ring buffer or left out of a flood)", r.Missing)
		} else if why := j.checkModel(st, texts); why != "" {
			r.Outcome, r.Reason = result.Fail, why
		} else if why := judgeKTAP(st, texts, &r); why != "" {
			r.Outcome, r.Reason = result.Fail, why
		} else if why := j.checkTaint(st, resp, r.Allowed); why != "" {
			r.Outcome, r.Reason = result.Fail, why
		}
	}
	return r
}

// result compares what the step's system call or program returned with
// the spec and says why it differs ("" when it does not).
func stepOutcomeText(st *spec.Step, resp guest.Response, vars map[string]string) string {
	kind := st.Kind()
	got := "ok"
	switch {
	case resp.Errno != "":
		got = resp.Errno
	case resp.Signal != "":
		got = resp.Signal
	}
	program := (kind == spec.StepRun && st.Background == "") || kind == spec.StepWait
	if program && resp.Errno == "" && resp.Signal == "" && resp.Exit != nil {
		want := 0
		if st.Exit != nil {
			want = *st.Exit
		}
		if st.Expect != "ok" {
			return fmt.Sprintf("%s exited with status %d, expected %s%s", kind, *resp.Exit, st.Expect, stderrNote(resp))
		}
		if *resp.Exit != want {
			return fmt.Sprintf("%s exited with status %d, expected %d%s", kind, *resp.Exit, want, stderrNote(resp))
		}
	} else if got != st.Expect {
		switch {
		case st.Expect == "ok" && resp.Signal != "":
			return fmt.Sprintf("%s was killed by %s, expected success", kind, got)
		case st.Expect == "ok":
			return fmt.Sprintf("%s failed with %s, expected success%s", kind, got, stderrNote(resp))
		default:
			return fmt.Sprintf("%s returned %s, expected %s", kind, got, st.Expect)
		}
	}
	if st.Stdout != "" {
		if ok, err := matchText(st.Stdout, resp.Stdout, vars); err != nil {
			return "stdout: " + err.Error()
		} else if !ok {
			return fmt.Sprintf("the program's output does not match /%s/:\n%s", st.Stdout, clip(resp.Stdout, 2000))
		}
	}
	if kind == spec.StepRead && st.Content != "" {
		if ok, err := matchText(st.Content, string(resp.Data), vars); err != nil {
			return "content: " + err.Error()
		} else if !ok {
			return fmt.Sprintf("%s holds %q, which does not match /%s/", st.Read, clip(string(resp.Data), 500), st.Content)
		}
	}
	return ""
}

// matchText matches a multi-line pattern (with ${name} values put in)
// against a program's output or a file's content.
func matchText(pattern, text string, vars map[string]string) (bool, error) {
	re, err := (&spec.LogExpect{Match: "(?m)" + pattern}).Regexp(vars)
	if err != nil {
		return false, err
	}
	return re.MatchString(text), nil
}

func stderrNote(resp guest.Response) string {
	if resp.Stderr == "" {
		return ""
	}
	return "; its standard error:\n" + clip(resp.Stderr, 2000)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// checkModel compares the step's log with its model ("" when it matches).
func (j *Judge) checkModel(st *spec.Step, lines []string) string {
	if st.Model == nil {
		return ""
	}
	want, err := model.Models[st.Model.Name](j.Env, st.Model.Params)
	if err != nil {
		return err.Error()
	}
	if why := model.Check(want, lines); why != "" {
		return fmt.Sprintf("model %s (%s %s): %s", st.Model.Name, j.Env.Kernel, j.Env.Arch, why)
	}
	return ""
}

// judgeKTAP parses the KTAP of a ktap: true step into r.Cases and says
// why it fails ("" when every case passed or was skipped).
func judgeKTAP(st *spec.Step, lines []string, r *StepResult) string {
	if !st.KTAP {
		return ""
	}
	doc := ktap.Parse(lines)
	if doc == nil {
		return "the step printed no KTAP (no \"KTAP version\" or \"TAP version\" line)"
	}
	r.Cases = doc.Cases()
	var bad []string
	for _, c := range r.Cases {
		if c.Outcome == ktap.Fail || c.Outcome == ktap.Missing {
			s := c.Path + " " + string(c.Outcome)
			if c.Reason != "" {
				s += " (" + clip(c.Reason, 300) + ")"
			}
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		return fmt.Sprintf("KTAP: %d of %d cases failed: %s", len(bad), len(r.Cases), strings.Join(bad, "; "))
	}
	return ""
}

// allowed reports whether the spec allows a crash report.
func (j *Judge) allowed(rep klog.Report) bool {
	for i := range j.spec.Allow {
		if j.spec.Allow[i].Allows(rep) {
			return true
		}
	}
	return false
}

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
			return fmt.Sprintf("expected log line /%s/%s %s (%d lines logged)", re, levelNote(e), what, n)
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
			return fmt.Sprintf("expected log line /%s/%s did not appear in the kernel log of the step (%d lines logged)", re, levelNote(e), n)
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

// checkTaint fails a step that added taint flags other than O and E, those
// the spec lists, those the allowed reports of the step explain (the crash
// catalogue's letters, klog.Report.Taints: W for a warning, D for an oops,
// L for a soft lockup), and, on a step with
// ktap: true, N (TAINT_TEST: the kernel adds it when KUnit tests run, or a
// module marked as a test loads). The step's ktap: key decides, not its
// output: a step that runs KUnit tests says so, and its cases are judged.
func (j *Judge) checkTaint(st *spec.Step, resp guest.Response, allowed []klog.Report) string {
	added := resp.TaintAfter &^ resp.TaintBefore
	ok := "OE" + strings.Join(j.spec.Taint, "")
	if st.KTAP {
		ok += "N"
	}
	for _, a := range allowed {
		ok += a.Taints()
	}
	var bad []string
	for bit := 0; bit < len(spec.TaintLetters); bit++ {
		l := spec.TaintLetters[bit]
		if added&(1<<bit) != 0 && !strings.ContainsRune(ok, rune(l)) {
			bad = append(bad, fmt.Sprintf("%c (%s)", l, spec.TaintNames[l]))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	hint := ""
	if added&(1<<strings.IndexByte(spec.TaintLetters, 'N')) != 0 && !strings.ContainsRune(ok, 'N') {
		hint = " (N: the step ran KUnit tests; say ktap: true on it to judge them)"
	}
	return fmt.Sprintf("the step tainted the kernel: %s; list the flags under taint: if that is intended%s", strings.Join(bad, ", "), hint)
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
	if r.SpecLess {
		s += " (no test.yaml: smoke test)"
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// Indent prefixes each line of s.
func Indent(lines []string, prefix string) string {
	return prefix + strings.Join(lines, "\n"+prefix)
}
