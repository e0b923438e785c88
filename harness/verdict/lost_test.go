package verdict

import (
	"os"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/result"
)

// TestTruncatedConsole: a VM that died while printing a report leaves a
// console log that stops inside it. The test is CRASH with the report
// marked incomplete; a console that stops with no report at all is LOST.
// Neither is ever PASS.
func TestTruncatedConsole(t *testing.T) {
	b, err := os.ReadFile("../klog/testdata/warning/6.1.192-x86_64-warn.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	cut := -1
	for i, l := range lines {
		if strings.Contains(l, "WARNING: CPU:") {
			cut = i + 5
			break
		}
	}
	if cut < 0 {
		t.Fatal("no WARNING header in the golden log")
	}
	res := Result{Outcome: result.Pass, Steps: []StepResult{{Index: 1, Step: "insmod crashers kind=warn"}}}
	JudgeLost(&res, lines[:cut], "during the step", false, "qemu exit status -1", nil)
	if res.Outcome != result.Crash || !strings.Contains(res.Reason, "WARNING in crashers_warn (incomplete") {
		t.Errorf("truncated report: %s: %s", res.Outcome, res.Reason)
	}
	if len(res.Reports) != 1 || !res.Reports[0].Incomplete {
		t.Errorf("reports: %+v", res.Reports)
	}

	clean := Result{Outcome: result.Pass, Steps: []StepResult{{Index: 1, Step: "insmod x"}}}
	JudgeLost(&clean, []string{"[    0.5] Run /init as init process", "[    0.6] x: loading out-of-tree module taints kernel."}, "during the step", false, "qemu exit status -1", nil)
	if clean.Outcome != result.Lost {
		t.Errorf("console cut with no report: %s, want LOST", clean.Outcome)
	}
}
