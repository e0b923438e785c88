package harness

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
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
