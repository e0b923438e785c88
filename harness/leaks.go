package harness

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/symbol"
	"github.com/lkmtest/lkmtest/harness/verdict"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// On a kernel of a flavour with LeakScan (kmemleak), the runner asks the
// guest's kmemleak between steps: it clears what the boot left, records
// where each module was loaded (so that a leak found after rmmod, whose
// trace has addresses only, still names its module and line), scans after
// each rmmod and at the test's end, and a leak whose allocation went
// through one of the test's modules is a CRASH of kind LEAK.

// kmemleakFile is kmemleak's control and report file in the guest.
const kmemleakFile = "/sys/kernel/debug/kmemleak"

// leakMinAge is how old an object must be before kmemleak reports it
// (the kernel's fixed 5 s, and a margin).
var leakMinAge = 5500 * time.Millisecond

// auxWait bounds one housekeeping request (a scan walks all memory).
const auxWait = 60 * time.Second

// leakScan reports whether the target's kernel scans for leaks.
func (t *Target) leakScan() bool {
	for _, f := range kernelconfigs.FlavoursOf(t.Options.Variant) {
		if f.LeakScan {
			return true
		}
	}
	return false
}

// leaks is the leak-hunting state of one test.
type leaks struct {
	r        *testRun
	table    *symbol.Table
	lastLoad time.Time // the end of the last step that could allocate
}

func (l *leaks) aux(req guest.Request) (guest.Response, error) {
	req.Aux = true
	resp, err := l.r.sess.Guest.Call(l.r.ctx, req, auxWait)
	if err == nil && resp.Error != "" {
		err = fmt.Errorf("%s", resp.Error)
	}
	if err == nil && resp.Errno != "" {
		err = fmt.Errorf("%s %s: %s", req.Op, req.Path, resp.Errno)
	}
	return resp, err
}

// clear drops what kmemleak found before the test.
func (l *leaks) clear() error {
	_, err := l.aux(guest.Request{Op: guest.OpWrite, Path: kmemleakFile, Data: []byte("clear")})
	return err
}

// loaded records where the guest put module mod's code.
func (l *leaks) loaded(mod string) {
	name := strings.ReplaceAll(mod, "-", "_")
	addrs := map[string]uint64{}
	for _, sec := range l.table.CodeSections(mod) {
		resp, err := l.aux(guest.Request{Op: guest.OpRead, Path: "/sys/module/" + name + "/sections/" + sec})
		if err != nil {
			continue
		}
		if a, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(resp.Data)), "0x"), 16, 64); err == nil {
			addrs[sec] = a
		}
	}
	l.table.SetLoaded(mod, addrs)
}

// scan asks kmemleak twice (an object found unreferenced by two scans is
// not a pointer in flight) and returns the leaks of the test's modules,
// symbolized. final waits first until the last allocation is old enough
// to be reported.
func (l *leaks) scan(final bool, sym verdict.Symbolizer) ([]klog.Report, error) {
	if wait := time.Until(l.lastLoad.Add(leakMinAge)); final && wait > 0 {
		time.Sleep(wait)
	}
	for i := 0; i < 2; i++ {
		if _, err := l.aux(guest.Request{Op: guest.OpWrite, Path: kmemleakFile, Data: []byte("scan")}); err != nil {
			return nil, err
		}
	}
	resp, err := l.aux(guest.Request{Op: guest.OpRead, Path: kmemleakFile})
	if err != nil {
		return nil, err
	}
	var mine []klog.Report
	for _, rep := range klog.ParseLeaks(string(resp.Data)) {
		if sym != nil {
			sym(&rep)
		}
		for _, f := range rep.Frames {
			if f.Module != "" && l.table.Has(f.Module) {
				rep.Module = f.Module
				rep.Title = klog.LeakTitle(rep)
				mine = append(mine, rep)
				break
			}
		}
	}
	// Reported once: the next scan shows only what is new.
	return mine, l.clear()
}
