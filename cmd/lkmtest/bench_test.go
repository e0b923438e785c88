package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// BenchmarkBookSuite runs the whole book suite on both arches five times
// back to back with the lkmtest binary, and reports its wall time per run
// and the peak resident memory of lkmtest itself (QEMU, its child, is not
// counted). Every run must give the same outcome for every test: a flaky
// test fails the benchmark.
func BenchmarkBookSuite(b *testing.B) {
	testenv.NeedsVM(b)
	const runs = 5
	var peak int64
	var first map[string]string
	var total time.Duration
	for i := 0; i < runs; i++ {
		out := filepath.Join(b.TempDir(), "run")
		p := start(b, nil, "run", "--arch", "x86_64,arm64", "--out", out)
		t0 := time.Now()
		code := p.wait(30 * time.Minute)
		total += time.Since(t0)
		rep, err := report.ReadJSON(out)
		if err != nil {
			b.Fatalf("run %d: exit %d, %v\n%s", i+1, code, err, p.errText())
		}
		outcomes := map[string]string{}
		for _, r := range rep.Results {
			outcomes[r.Cell+"/"+r.Test] = string(r.Outcome)
		}
		if first == nil {
			first = outcomes
		} else {
			for k, v := range first {
				if outcomes[k] != v {
					b.Errorf("run %d: %s is %s, run 1 said %s", i+1, k, outcomes[k], v)
				}
			}
		}
		if code != 0 {
			b.Errorf("run %d: exit %d (%d failed)", i+1, code, rep.Totals.Failed)
		}
		p.mu.Lock()
		peak = max(peak, p.peak)
		p.mu.Unlock()
	}
	b.ReportMetric(total.Seconds()/runs, "s/suite")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(len(first)), "results/suite")
}

// BenchmarkBookMatrix runs the book suite once on the whole 2 x 2 matrix
// (6.1 and 6.12, both arches; warm) and reports its wall time and the peak
// resident memory of lkmtest itself (VmHWM; QEMU, its child, is not
// counted): the memory goal is for this run.
func BenchmarkBookMatrix(b *testing.B) {
	testenv.NeedsVM(b)
	out := filepath.Join(b.TempDir(), "run")
	p := start(b, nil, "run", "--arch", "x86_64,arm64", "--kernel", "6.1,6.12", "--out", out)
	t0 := time.Now()
	code := p.wait(60 * time.Minute)
	took := time.Since(t0)
	rep, err := report.ReadJSON(out)
	if err != nil {
		b.Fatalf("exit %d, %v\n%s", code, err, p.errText())
	}
	if code != 0 {
		b.Errorf("exit %d (%d failed)", code, rep.Totals.Failed)
	}
	p.mu.Lock()
	peak := p.peak
	p.mu.Unlock()
	b.ReportMetric(took.Seconds(), "s/matrix")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(len(rep.Results)), "results")
}
