package verdict

import (
	"fmt"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/ktap"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// Judge judges the steps of one test in order; it carries the values that
// log patterns capture for later ones (${name}).
type Judge struct {
	spec *spec.Spec
	// Vars are the captured values so far.
	Vars map[string]string
	// Env is the kernel and arch the steps ran on (for models).
	Env model.Env
	// Symbolize, when set, fills in the source lines of crash reports'
	// frames (see NewSymbolizer).
	Symbolize Symbolizer
	// running holds, per background program, the kernel log since it
	// started: a wait step's expectations see its program's whole life.
	running map[string][]logLine
	// carry is the previous step's log (but for the line the previous
	// wait_log matched, when it was one: a line is waited for once): a
	// wait_log step sees it too, so that what a background program
	// logged while its run step was answered is not missed.
	carry []logLine
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
	carried := j.carry
	j.carry = lines
	logLines := lines
	switch st.Kind() {
	case spec.StepWait:
		logLines = j.running[st.Wait]
		delete(j.running, st.Wait)
	case spec.StepWaitLog:
		// Its log: sees what its pattern sees: the lines carried from
		// the step before (a report that came with it) and its own.
		logLines = append(append([]logLine(nil), carried...), lines...)
	}
	reps := klog.Find(texts)
	symbolizeAll(j.Symbolize, reps)
	for _, rep := range reps {
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
		} else if why := j.waitLog(st, carried, lines, resp); why != "" {
			r.Outcome, r.Reason = result.Fail, why
		} else if why := j.assert(st); why != "" {
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
// against a program's output or a file's content; on a match, the
// pattern's named groups are captured into vars.
func matchText(pattern, text string, vars map[string]string) (bool, error) {
	re, err := (&spec.LogExpect{Match: "(?m)" + pattern}).Regexp(vars)
	if err != nil {
		return false, err
	}
	m := re.FindStringSubmatch(text)
	if m == nil {
		return false, nil
	}
	for i, name := range re.SubexpNames() {
		if name != "" {
			vars[name] = m[i]
		}
	}
	return true, nil
}

// waitLog judges a wait_log step: a line of the previous step's log
// (carried) or of its own matches the pattern (its named groups are
// captured, and the next wait_log sees the others), else it says none
// did.
func (j *Judge) waitLog(st *spec.Step, carried, lines []logLine, resp guest.Response) string {
	if st.Kind() != spec.StepWaitLog {
		return ""
	}
	re, err := (&spec.LogExpect{Match: st.WaitLog}).Regexp(j.Vars)
	if err != nil {
		return "wait_log: " + err.Error()
	}
	all := append(append([]logLine(nil), carried...), lines...)
	for k, l := range all {
		if re.MatchString(l.text) {
			j.capture(re, l.text)
			// The next step sees the rest, lines before this one too:
			// events a test waits for in turn may be logged in
			// another order (two kthreads ending), and a line is
			// waited for once.
			j.carry = append(all[:k:k], all[k+1:]...)
			return ""
		}
	}
	return fmt.Sprintf("no kernel log line matched /%s/ within %s (waited %s)", re, st.Timeout.Std(),
		(time.Duration(resp.DurationUS) * time.Microsecond).Round(time.Millisecond))
}

// Satisfied reports whether wait_log step st is met already by the log
// carried from the step before it: the guest then need not wait.
func (j *Judge) Satisfied(st *spec.Step) bool {
	if st.Kind() != spec.StepWaitLog {
		return false
	}
	re, err := (&spec.LogExpect{Match: st.WaitLog}).Regexp(j.Vars)
	if err != nil {
		return false
	}
	for _, l := range j.carry {
		if re.MatchString(l.text) {
			return true
		}
	}
	return false
}

// assert judges an assert step's condition over the captured values.
func (j *Judge) assert(st *spec.Step) string {
	if st.Kind() != spec.StepAssert {
		return ""
	}
	a := st.Assertion
	if a == nil { // a spec built in Go rather than parsed
		var err error
		if a, err = spec.ParseAssertion(st.Assert); err != nil {
			return err.Error()
		}
	}
	ok, why, err := a.Eval(j.Vars)
	switch {
	case err != nil:
		return fmt.Sprintf("assert %s: %v", st.Assert, err)
	case !ok:
		return fmt.Sprintf("assert %s: %s", st.Assert, why)
	}
	return ""
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
