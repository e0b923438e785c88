package verdict

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/spec"
)

func loadStep(t *testing.T, yaml string) *spec.Step {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, spec.FileName)
	os.WriteFile(p, []byte("name: t\nsteps:\n"+yaml), 0o644)
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return &s.Steps[0]
}

func recs(lines ...string) []klog.Record {
	var out []klog.Record
	for i, l := range lines {
		out = append(out, klog.Record{Seq: uint64(i), Level: 6, Text: l})
	}
	return out
}

func TestJudgeStep(t *testing.T) {
	ordered := "  - insmod: m\n    log: ['^first$', '^second$']\n"
	cases := []struct {
		name    string
		step    string
		resp    guest.Response
		outcome Outcome
		reason  string
	}{
		{"all lines in order", ordered, guest.Response{Records: recs("noise", "first", "x", "second")}, Pass, ""},
		{"multi-line record", ordered, guest.Response{Records: recs("first\nsecond")}, Pass, ""},
		{"missing line", ordered, guest.Response{Records: recs("first")}, Fail, "expected log line /^second$/ did not appear after the line matching /^first$/"},
		{"wrong order", ordered, guest.Response{Records: recs("second", "first")}, Fail, "/^second$/"},
		{"nothing logged", ordered, guest.Response{}, Fail, "/^first$/ did not appear in the kernel log of the step (0 lines logged)"},
		{"unexpected errno", "  - insmod: m\n", guest.Response{Errno: "ENOENT"}, Fail, "insmod failed with ENOENT, expected success"},
		{"expected errno", "  - insmod: m\n    expect: ENOMEM\n", guest.Response{Errno: "ENOMEM"}, Pass, ""},
		{"expected errno, got success", "  - insmod: m\n    expect: ENOMEM\n", guest.Response{}, Fail, "insmod returned ok, expected ENOMEM"},
		{"crash in the window", "  - insmod: m\n", guest.Response{Signal: "SIGSEGV", Records: recs("BUG: kernel NULL pointer dereference, address: 0", "Oops: 0002 [#1] SMP")},
			Crash, "kernel reported BUG: kernel NULL pointer dereference (insmod was killed by SIGSEGV)"},
		{"warning in the window", "  - rmmod: m\n", guest.Response{Records: recs("WARNING: CPU: 0 PID: 1 at lib/x.c:1 f+0x1/0x2")}, Crash, "WARNING in f"},
		{"killed without report", "  - insmod: m\n", guest.Response{Signal: "SIGKILL"}, Crash, "insmod was killed by SIGKILL"},
		{"agent timeout", "  - insmod: m\n    timeout: 5s\n", guest.Response{Timeout: true}, Timeout, "did not finish within 5s"},
		{"agent error", "  - insmod: m\n", guest.Response{Error: "no such file"}, Error, "guest agent: no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := loadStep(t, c.step)
			r := JudgeStep(1, st, c.resp)
			if r.Outcome != c.outcome || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("JudgeStep = %s %q, want %s containing %q", r.Outcome, r.Reason, c.outcome, c.reason)
			}
		})
	}
}

func TestResultAddKeepsFirstWorst(t *testing.T) {
	r := Result{Outcome: Pass}
	r.Add(StepResult{Index: 1, Step: "insmod a", Outcome: Pass})
	r.Add(StepResult{Index: 2, Step: "insmod b", Line: 7, Outcome: Fail, Reason: "nope", Records: recs("l1", "l2")})
	r.Add(StepResult{Index: 3, Step: "rmmod b", Outcome: Fail, Reason: "later"})
	if r.Outcome != Fail || r.Reason != "step 2 (insmod b): nope" || r.Line != 7 {
		t.Errorf("result = %s %q line %d", r.Outcome, r.Reason, r.Line)
	}
	if strings.Join(r.Excerpt, ",") != "l1,l2" {
		t.Errorf("excerpt = %q", r.Excerpt)
	}
	r.Add(StepResult{Index: 4, Step: "rmmod c", Outcome: Crash, Reason: "boom"})
	if r.Outcome != Crash || !strings.HasPrefix(r.Reason, "step 4") {
		t.Errorf("a worse later step must win: %s %q", r.Outcome, r.Reason)
	}
	if len(r.Steps) != 4 {
		t.Errorf("steps = %d", len(r.Steps))
	}
}

func TestWorse(t *testing.T) {
	if Worse(Pass, Fail) != Fail || Worse(Crash, Fail) != Crash || Worse(Skip, Pass) != Skip {
		t.Error("Worse does not order outcomes")
	}
}
