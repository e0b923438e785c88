package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/verdict"
)

// TestTruncatedConsole: a VM that died while printing a report leaves a
// console log that stops inside it. The test is CRASH with the report
// marked incomplete; a console that stops with no report at all is LOST.
// Neither is ever PASS.
func TestTruncatedConsole(t *testing.T) {
	b, err := os.ReadFile("klog/testdata/warning/6.1.192-x86_64-warn.log")
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
	res := verdict.Result{Outcome: verdict.Pass, Steps: []verdict.StepResult{{Index: 1, Step: "insmod crashers kind=warn"}}}
	judgeLost(&res, lines[:cut], "during the step", false, "qemu exit status -1")
	if res.Outcome != verdict.Crash || !strings.Contains(res.Reason, "WARNING in crashers_warn (incomplete") {
		t.Errorf("truncated report: %s: %s", res.Outcome, res.Reason)
	}
	if len(res.Reports) != 1 || !res.Reports[0].Incomplete {
		t.Errorf("reports: %+v", res.Reports)
	}

	clean := verdict.Result{Outcome: verdict.Pass, Steps: []verdict.StepResult{{Index: 1, Step: "insmod x"}}}
	judgeLost(&clean, []string{"[    0.5] Run /init as init process", "[    0.6] x: loading out-of-tree module taints kernel."}, "during the step", false, "qemu exit status -1")
	if clean.Outcome != verdict.Lost {
		t.Errorf("console cut with no report: %s, want LOST", clean.Outcome)
	}
}

// TestSocketDirSweep: the socket directory of a process that is gone (kill
// -9 leaves it; nobody holds its lock) is removed by the next lkmtest; one
// whose lock is held (a live run, maybe in another PID namespace) is kept.
func TestSocketDirSweep(t *testing.T) {
	stale := filepath.Join(os.TempDir(), fmt.Sprintf("lkmtest-vm-%d-123", os.Getpid()))
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, socketOwnerFile), nil, 0o600)
	live, err := socketDir("snap")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSocketDir(live)
	sweepSocketDirs()
	if _, err := os.Stat(stale); err == nil {
		os.RemoveAll(stale)
		t.Errorf("%s (nobody holds its lock) was kept", stale)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("%s (its lock is held) was removed", live)
	}
	releaseSocketDir(live)
	if _, err := os.Stat(live); err == nil {
		t.Errorf("%s stays after its release", live)
	}
}
