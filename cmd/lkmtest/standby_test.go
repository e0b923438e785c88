package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

func TestStandbyIdle(t *testing.T) {
	for _, c := range []struct {
		env  environment
		want time.Duration
	}{
		{environment{standby: "", ci: true}, 0}, // CI: off unless asked
		{environment{standby: "off"}, 0},
		{environment{standby: "0"}, 0},
		{environment{standby: "on", ci: true}, defaultStandbyIdle},
		{environment{standby: "1"}, defaultStandbyIdle},
		{environment{standby: "90s"}, 90 * time.Second},
	} {
		got, err := standbyIdle(c.env)
		if err != nil || got != c.want {
			t.Errorf("standbyIdle(%+v) = %v, %v; want %v", c.env, got, err, c.want)
		}
	}
	if _, err := standbyIdle(environment{standby: "soon"}); err == nil || !strings.Contains(err.Error(), "LKMTEST_STANDBY") {
		t.Errorf("LKMTEST_STANDBY=soon: error %v, want one naming the variable", err)
	}
}

// readResult reads one test's result.json in a run directory.
func readResult(t *testing.T, out, cell, test string) result.Test {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, cell, test, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r result.Test
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// A run leaves a standby; the next run's first VM is that standby's, and
// the guest is as a restored one: the test passes, and its VM, left as it
// found it, goes on to the next test. A standby stopped, or a dead one's
// socket, leaves the next run restoring as usual.
func TestStandby(t *testing.T) {
	testenv.NeedsVM(t)
	env := []string{"LKMTEST_STANDBY=2m"}
	t.Cleanup(func() { cliEnv(t, nil, env, "standby", "stop") })
	tests := []string{"hello", "printk-levels"}
	run := func() (string, string) {
		out := t.TempDir()
		stdout, stderr, code := cliEnv(t, nil, env, append([]string{"run", "--out", out, "-j", "1", "--arch", "arm64"}, tests...)...)
		if code != 0 || !strings.Contains(stdout, "2 passed, 0 failed") {
			t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		return out, stderr
	}
	out1, stderr := run()
	if !strings.Contains(stderr, "standby: 1 VM(s) wait 2m0s for the next run") {
		t.Fatalf("the first run left no standby:\n%s", stderr)
	}
	cell := "6.1.192-arm64"
	// first is the test that started the run's VM (the scheduler picks
	// the order), then the other, reusing it.
	order := func(out string) (first, then result.Test) {
		a, b := readResult(t, out, cell, tests[0]), readResult(t, out, cell, tests[1])
		if a.ReusedAfter != "" {
			a, b = b, a
		}
		return a, b
	}
	if first, _ := order(out1); first.Standby {
		// The cache may hold a standby of an earlier test run: then the
		// first run took it, and that is what the second checks too.
		t.Logf("first run: %s ran in a standby VM", first.Test)
	}
	out2, _ := run()
	first, then := order(out2)
	if !first.Standby || !first.Snapshot {
		t.Errorf("second run: %s did not run in the standby VM: %+v", first.Test, first)
	}
	if then.ReusedAfter != first.Test || then.Standby {
		t.Errorf("second run: %s reused_after=%q standby=%v; want the standby's VM handed on from %s", then.Test, then.ReusedAfter, then.Standby, first.Test)
	}

	stdout, _, code := cliEnv(t, nil, env, "standby", "stop")
	if code != 0 || stdout != "stopped 1 standby VM(s)\n" {
		t.Fatalf("standby stop: exit %d, %q", code, stdout)
	}
	pattern := filepath.Join(os.TempDir(), fmt.Sprintf("lkmtest-standby-%d-*", os.Getuid()))
	deadline := time.Now().Add(10 * time.Second)
	for {
		dirs, _ := filepath.Glob(pattern)
		if len(dirs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby directories left after standby stop: %v", dirs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out3, _ := run()
	if r, _ := order(out3); r.Standby || !r.Snapshot {
		t.Errorf("after standby stop: %s standby=%v snapshot=%v; want a plain restore", r.Test, r.Standby, r.Snapshot)
	}

	// A holder killed (kill -9) leaves its socket, which nobody serves:
	// the next run restores as usual, and the standby it leaves takes the
	// key over.
	dirs, _ := filepath.Glob(pattern)
	if len(dirs) != 1 {
		t.Fatalf("standby directories after the third run: %v", dirs)
	}
	key := strings.TrimPrefix(filepath.Base(dirs[0]), fmt.Sprintf("lkmtest-standby-%d-", os.Getuid()))
	killHolders(t, key)
	if _, err := os.Stat(filepath.Join(dirs[0], "claim.sock")); err != nil {
		t.Fatalf("the killed holder's socket: %v", err)
	}
	out4, stderr := run()
	if r, _ := order(out4); r.Standby || !r.Snapshot {
		t.Errorf("after a killed holder: %s standby=%v snapshot=%v; want a plain restore", r.Test, r.Standby, r.Snapshot)
	}
	if !strings.Contains(stderr, "standby: 1 VM(s) wait") {
		t.Errorf("no standby after the killed holder's:\n%s", stderr)
	}
}

// killHolders kills the holder processes of the standby key (SIGKILL).
func killHolders(t *testing.T, key string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	killed := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "standby\x00serve\x00") || !strings.Contains(string(b), key) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(p, "/proc/%d/cmdline", &pid); err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	if killed == 0 {
		t.Fatalf("no holder process of standby %s", key)
	}
	time.Sleep(200 * time.Millisecond) // its QEMU dies with it (Pdeathsig)
}
