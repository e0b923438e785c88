package verdict

import (
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/result"
)

// Record is the result as it is kept: result.json, and an entry of a run's
// results.json.
func (r *Result) Record() result.Test {
	t := result.Test{Test: r.Test, File: r.File, Line: r.Line, Cell: r.Cell, Kernel: r.Kernel, Arch: r.Arch, Variant: r.Variant,
		Outcome: r.Outcome, Reason: r.Reason, Stage: r.Stage, DurationNS: r.Duration.Nanoseconds(), BootNS: r.Boot.Nanoseconds(),
		ModulesNS: r.Modules.Nanoseconds(), Snapshot: r.Snapshot, Standby: r.Standby, ReusedAfter: r.ReusedAfter, FirstAttempt: r.FirstAttempt, Excerpt: r.Excerpt, Dir: r.Dir, SpecLess: r.SpecLess}
	if t.Cell == "" {
		t.Cell = t.CellOf().Label()
	}
	crash := func(rep klog.Report, step int, allowed bool) result.CrashReport {
		c := result.CrashReport{Kind: string(rep.Kind), Title: rep.Title, Module: rep.Module,
			Source: reportSource(rep), Allowed: allowed, Step: step, Incomplete: rep.Incomplete}
		for _, f := range rep.Frames {
			c.Frames = append(c.Frames, result.Frame{Func: f.Func, Module: f.Module, Kind: f.Kind, File: f.File, Line: f.LineNo, NoLine: f.NoLine, Unreliable: f.Unreliable})
		}
		return c
	}
	for _, s := range r.Steps {
		st := result.Step{Index: s.Index, Line: s.Line, Step: s.Step, Outcome: s.Outcome, Reason: s.Reason,
			DurationNS: s.Duration.Nanoseconds()}
		for _, c := range s.Cases {
			st.Cases = append(st.Cases, result.Case{Name: c.Path, Outcome: string(c.Outcome), Reason: c.Reason})
		}
		t.Steps = append(t.Steps, st)
		for _, rep := range s.Reports {
			t.Crashes = append(t.Crashes, crash(rep, s.Index, false))
		}
		for _, rep := range s.Allowed {
			t.Crashes = append(t.Crashes, crash(rep, s.Index, true))
		}
	}
	for _, rep := range r.Reports {
		t.Crashes = append(t.Crashes, crash(rep, 0, false))
	}
	return t
}

// Records are the records of results, in order.
func Records(results []Result) []result.Test {
	out := make([]result.Test, len(results))
	for i := range results {
		out[i] = results[i].Record()
	}
	return out
}
