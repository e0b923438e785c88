package harness

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// The guest's state (what decides whether a VM is kept for the next test)
// holds still while nothing happens, and changes where a test leaves
// something behind: a sysctl it changed, a file in /tmp.
func TestVMGuestState(t *testing.T) {
	for _, a := range vmArchs {
		t.Run(string(a), func(t *testing.T) {
			tg := archTarget(t, a)
			ctx := context.Background()
			sess, err := tg.Machine.Start(ctx, boot.Config{Dir: t.TempDir(), Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if err := sess.Hello(ctx); err != nil {
				t.Fatal(err)
			}
			state := func() map[string]string {
				t.Helper()
				resp, err := sess.Guest.Call(ctx, guest.Request{Op: guest.OpState, Aux: true}, time.Minute)
				if err != nil || resp.Error != "" || len(resp.State) == 0 {
					t.Fatalf("state: %v %s (%d entries)", err, resp.Error, len(resp.State))
				}
				return resp.State
			}
			changed := func(a, b map[string]string) string {
				var keys []string
				for k, v := range b {
					if a[k] != v {
						keys = append(keys, k)
					}
				}
				sort.Strings(keys)
				return strings.Join(keys, ", ")
			}
			before := state()
			for _, k := range []string{"taint", "modules", "processes", "mounts", "sysctl kernel/sched_rr_timeslice_ms", "ls /tmp"} {
				if _, ok := before[k]; !ok {
					t.Errorf("the state has no %q", k)
				}
			}
			if _, err := sess.Guest.Call(ctx, guest.Request{Op: guest.OpSleep, TimeoutMS: 500}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if c := changed(before, state()); c != "" {
				t.Errorf("after half a second of nothing, the state changed in: %s", c)
			}
			resp, err := sess.Guest.Call(ctx, guest.Request{Op: guest.OpRun, Args: []string{"sh", "-c", "echo 5 > /proc/sys/kernel/sched_rr_timeslice_ms; touch /tmp/left-behind"}, TimeoutMS: 10000}, time.Minute)
			if err != nil || resp.Exit == nil || *resp.Exit != 0 {
				t.Fatalf("run: %v %+v", err, resp)
			}
			if c, want := changed(before, state()), "ls /tmp, sysctl kernel/sched_rr_timeslice_ms"; c != want {
				t.Errorf("after a sysctl write and a file in /tmp the state changed in %q, want %q", c, want)
			}
		})
	}
}

// On real guests: a test that passed and left the guest as found hands its
// VM to the next (which passes in it, its console and transcript its own),
// a test whose kernel warned ends its VM, and the next test gets a VM of
// its own.
func TestVMKeptVM(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		load := func(dir string) *spec.Spec {
			s, err := spec.Load(filepath.Join("../modules", dir, spec.FileName))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		ctx := context.Background()
		hello, affairs, warns := load("ch04-hello"), load("ch06-current-affairs"), load("ch08-kmalloc-max")
		r1, kept, _ := runTest(ctx, tg, hello, nil, nil)
		if r1.Outcome != result.Pass || kept == nil {
			t.Fatalf("hello: %s, kept %v; want PASS and its VM kept", r1.Summary(), kept != nil)
		}
		r2, kept, _ := runTest(ctx, tg, affairs, kept, nil)
		if r2.Outcome != result.Pass || r2.ReusedAfter != "hello" || kept == nil {
			t.Fatalf("current-affairs: %s, reused after %q, kept %v; want PASS in hello's VM, kept", r2.Summary(), r2.ReusedAfter, kept != nil)
		}
		if tr, err := guest.ReadTranscript(filepath.Join(r2.Dir, "agent.log")); err != nil || len(tr.Sent) != len(affairs.Steps) || !tr.Shutdown {
			t.Errorf("current-affairs transcript: %v, %d steps sent (want %d), ended %v", err, len(tr.Sent), len(affairs.Steps), tr.Shutdown)
		}
		if b, _ := os.ReadFile(filepath.Join(r2.Dir, "console.log")); strings.Contains(string(b), "Hello, world") || strings.Contains(string(b), "Linux version") {
			t.Errorf("current-affairs console.log holds hello's or the boot's lines:\n%s", b)
		}
		r3, kept, _ := runTest(ctx, tg, warns, kept, nil)
		if r3.Outcome != result.Pass || r3.ReusedAfter != "current-affairs" || kept != nil {
			t.Fatalf("kmalloc-max: %s, reused after %q, kept %v; want PASS in the kept VM, which its warning ends", r3.Summary(), r3.ReusedAfter, kept != nil)
		}
		r4, kept, _ := runTest(ctx, tg, hello, kept, nil)
		if r4.Outcome != result.Pass || r4.ReusedAfter != "" {
			t.Errorf("hello again: %s, reused after %q; want PASS in a VM of its own", r4.Summary(), r4.ReusedAfter)
		}
		kept.close()
	})
}
