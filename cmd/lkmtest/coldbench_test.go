package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// BenchmarkColdRun is the main job ('make run': the book suite on both
// arches) from an empty cache, as on a new machine whose Debian packages
// are installed: every source unpacked, base image, agent, kernel and
// snapshot made anew. From the run's timeline.json it prints where the
// time went, phase by phase, and reports the time to the first verdict and
// to the last. 'make bench-cold' runs it (about 20-30 minutes here); 'make
// bench' does not.
func BenchmarkColdRun(b *testing.B) {
	testenv.NeedsVM(b)
	cacheDir := filepath.Join(b.TempDir(), "cache")
	out := filepath.Join(b.TempDir(), "run")
	p := start(b, nil, "--cache-dir", cacheDir, "run", "--arch", "x86_64,arm64", "--out", out)
	t0 := time.Now()
	code := p.wait(3 * time.Hour)
	wall := time.Since(t0)
	rep, err := report.ReadJSON(out)
	if err != nil {
		b.Fatalf("exit %d, %v\n%s", code, err, p.errText())
	}
	if code != 0 {
		b.Errorf("exit %d (%d failed)", code, rep.Totals.Failed)
	}
	var doc timelineDoc
	data, err := os.ReadFile(filepath.Join(out, timelineFile))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil {
		b.Fatal(err)
	}
	phases, first, last := coldPhases(doc, cacheDir)
	fmt.Printf("cold run: the book suite on both arches from an empty cache, %s wall, %d results\n", wall.Round(time.Second), len(rep.Results))
	fmt.Printf("%-36s %5s %9s %9s %9s\n", "phase", "n", "first s", "last s", "busy s")
	for _, ph := range phases {
		fmt.Printf("%-36s %5d %9.1f %9.1f %9.1f\n", ph.name, ph.n, ph.start, ph.end, ph.busy)
	}
	fmt.Printf("%-36s %5s %9s %9.1f\n", "first verdict", "", "", first)
	fmt.Printf("%-36s %5s %9s %9.1f\n", "last verdict", "", "", last)
	b.ReportMetric(first, "first-verdict-s")
	b.ReportMetric(last, "last-verdict-s")
	b.ReportMetric(wall.Seconds(), "wall-s")
	for _, ph := range phases {
		if strings.HasPrefix(ph.name, "kernel ") {
			b.ReportMetric(ph.end-ph.start, strings.ReplaceAll(strings.TrimPrefix(ph.name, "kernel "), " ", "-")+"-build-s")
		}
	}
}

type coldPhase struct {
	name       string
	start, end float64
	busy       float64 // the spans' durations added up
	n          int     // how many spans
}

// coldPhases groups a timeline's spans: each kernel on its own (named by
// its metadata), the other kinds as one phase each (from the first start
// to the last end, with how many spans and their durations added up);
// first and last are the first and last test's end.
func coldPhases(doc timelineDoc, cacheDir string) (phases []coldPhase, first, last float64) {
	byKind := map[string]*coldPhase{}
	for _, s := range doc.Spans {
		name := s.Kind
		switch s.Kind {
		case "kernels", "kernels-prepared":
			name = "kernel " + kernelLabel(filepath.Join(cacheDir, s.Kind, s.Name))
		case "src":
			name = "unpack kernel sources"
		case "base":
			name = "u-root base images"
		case "test":
			name = "tests"
			if first == 0 || s.End < first {
				first = s.End
			}
			last = max(last, s.End)
		}
		ph := byKind[name]
		if ph == nil {
			ph = &coldPhase{name: name, start: s.Start, end: s.End}
			byKind[name] = ph
		}
		ph.start, ph.end = min(ph.start, s.Start), max(ph.end, s.End)
		ph.busy += s.End - s.Start
		ph.n++
	}
	for _, ph := range byKind {
		phases = append(phases, *ph)
	}
	sort.Slice(phases, func(i, j int) bool { return phases[i].start < phases[j].start })
	return phases, first, last
}

// kernelLabel names a cached kernel by its metadata: version, arch and
// fragments beyond lkmtest's own ("6.1.192 arm64 +debug").
func kernelLabel(dir string) string {
	var m kbuild.Metadata
	b, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return filepath.Base(dir)
	}
	label := m.KernelVersion + " " + string(m.Arch)
	for _, f := range m.Fragments {
		if f := strings.TrimSuffix(filepath.Base(f), ".config"); f != "base" && f != string(m.Arch) {
			label += " +" + f
		}
	}
	return label
}

// A timeline's spans become phases: each kernel by its metadata, the
// other kinds one each, in the order they started; the first and last
// verdicts are the first and last test's end.
func TestColdPhases(t *testing.T) {
	cacheDir := t.TempDir()
	kdir := filepath.Join(cacheDir, "kernels", "k1")
	os.MkdirAll(kdir, 0o755)
	os.WriteFile(filepath.Join(kdir, "metadata.json"), []byte(`{"arch":"arm64","kernel_version":"6.1.192","fragments":["kernel-configs/base.config","kernel-configs/arm64.config","kernel-configs/debug.config"]}`), 0o644)
	doc := timelineDoc{Spans: []timelineSpan{
		{Kind: "src", Name: "s", Start: 0.1, End: 12},
		{Kind: "kernels", Name: "k1", Start: 12, End: 300},
		{Kind: "base", Name: "b1", Start: 300, End: 310},
		{Kind: "base", Name: "b2", Start: 305, End: 320},
		{Kind: "test", Name: "a on x", Start: 320, End: 321.5},
		{Kind: "test", Name: "b on x", Start: 320, End: 325},
	}}
	phases, first, last := coldPhases(doc, cacheDir)
	var got []string
	for _, ph := range phases {
		got = append(got, fmt.Sprintf("%s %.1f-%.1f %d %.1f", ph.name, ph.start, ph.end, ph.n, ph.busy))
	}
	want := "unpack kernel sources 0.1-12.0 1 11.9|kernel 6.1.192 arm64 +debug 12.0-300.0 1 288.0|u-root base images 300.0-320.0 2 25.0|tests 320.0-325.0 2 6.5"
	if strings.Join(got, "|") != want || first != 321.5 || last != 325 {
		t.Errorf("phases %q, first %v, last %v; want %q, 321.5, 325", strings.Join(got, "|"), first, last, want)
	}
}
