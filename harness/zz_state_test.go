package harness

import (
	"context"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/guest"
)

func TestZZState(t *testing.T) {
	for _, a := range vmArchs {
		tg := archTarget(t, a)
		dir := t.TempDir()
		ctx := context.Background()
		sess, err := tg.Machine.Start(ctx, boot.Config{Dir: dir, Memory: 256, CPUs: 1, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		var prev map[string]string
		for i, req := range []guest.Request{{Op: guest.OpState}, {Op: guest.OpSleep, TimeoutMS: 300}, {Op: guest.OpState}, {Op: guest.OpRun, Args: []string{"sh", "-c", "echo 5 > /proc/sys/kernel/sched_rr_timeslice_ms; touch /tmp/zz"}}, {Op: guest.OpState}, {Op: guest.OpState}} {
			t1 := time.Now()
			resp, err := sess.Guest.Call(ctx, req, time.Minute)
			t.Logf("%d %s: %v agent %dus %v %s", i, req.Op, time.Since(t1), resp.DurationUS, err, resp.Error)
			if resp.State != nil {
				t.Logf("%d entries", len(resp.State))
				if prev != nil {
					for k, v := range resp.State {
						if prev[k] != v {
							t.Logf("changed %s: %q -> %q", k, prev[k], v)
						}
					}
				}
				prev = resp.State
			}
		}
		sess.Close()
	}
}
