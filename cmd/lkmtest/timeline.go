package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/lkmtest/lkmtest/harness/progress"
)

// timelineFile is the run directory's timeline: what the run made into the
// cache (unpacked sources, base images, kernels, snapshots...) and each
// test, with their times from the run's start.
const timelineFile = "timeline.json"

// timeline collects a run's spans (progress.Record).
type timeline struct {
	start time.Time
	mu    sync.Mutex
	spans []progress.Span
}

func (t *timeline) add(s progress.Span) {
	t.mu.Lock()
	t.spans = append(t.spans, s)
	t.mu.Unlock()
}

// timelineSpan is a span as timeline.json has it: seconds from the run's
// start.
type timelineSpan struct {
	Kind  string  `json:"kind"`
	Name  string  `json:"name"`
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
}

// timelineDoc is timeline.json.
type timelineDoc struct {
	Started time.Time      `json:"started"`
	Spans   []timelineSpan `json:"spans"`
}

// write saves the timeline in dir, spans in the order they started.
func (t *timeline) write(dir string) error {
	t.mu.Lock()
	doc := timelineDoc{Started: t.start}
	for _, s := range t.spans {
		doc.Spans = append(doc.Spans, timelineSpan{Kind: s.Kind, Name: s.Name,
			Start: s.Start.Sub(t.start).Seconds(), End: s.End.Sub(t.start).Seconds()})
	}
	t.mu.Unlock()
	sort.SliceStable(doc.Spans, func(i, j int) bool { return doc.Spans[i].Start < doc.Spans[j].Start })
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, timelineFile), append(b, '\n'), 0o600)
}
