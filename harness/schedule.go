package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// job is test i on cell j.
type job struct{ i, j int }

// queue holds the jobs whose target is ready: workers take the one
// expected to take longest first (the critical path of a suite is its
// longest tests), so that both CPUs stay busy to the end.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []weighted
	closed  bool
}

// weighted is a job with how long it is expected to take, and whether it
// is expected to leave its VM unfit for another test (it did last time).
type weighted struct {
	job
	w     time.Duration
	dirty bool
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// add queues jobs whose target is ready.
func (q *queue) add(jobs ...weighted) {
	q.mu.Lock()
	q.pending = append(q.pending, jobs...)
	// Longest first; ties keep the order asked.
	sort.SliceStable(q.pending, func(a, b int) bool { return q.pending[a].w > q.pending[b].w })
	q.mu.Unlock()
	q.cond.Broadcast()
}

// close says no job will be added.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// take returns the next job, waiting for one; false once the queue is
// closed and empty. The longest job that rank puts highest comes first
// (a worker keeping a VM takes a job that can run in it, one that will
// leave it as found before one that will not), else the longest; rank may
// be nil.
func (q *queue) take(rank func(weighted) int) (job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.pending) == 0 {
		return job{}, false
	}
	k, best := 0, 0
	if rank != nil {
		for i, w := range q.pending {
			if r := rank(w); r > best {
				k, best = i, r
			}
		}
	}
	jb := q.pending[k].job
	q.pending = append(q.pending[:k], q.pending[k+1:]...)
	return jb, true
}

// any says whether a queued job satisfies f.
func (q *queue) any(f func(weighted) bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, w := range q.pending {
		if f(w) {
			return true
		}
	}
	return false
}

// durations are the times tests took in earlier runs, by cell and test,
// and which tests left their VM unfit for another (durations.json in the
// cache): the queue takes the longest first, and a kept VM the tests that
// will leave it as found first. A test never run before weighs its spec's
// own waits.
type durations struct {
	path string
	mu   sync.Mutex
	m    map[string]int64 // "cell test" -> nanoseconds
	dty  map[string]bool  // "cell test" -> its VM was not kept
}

// durationsFile is durations.json's content.
type durationsFile struct {
	NS    map[string]int64 `json:"ns"`
	Dirty map[string]bool  `json:"dirty,omitempty"`
}

func durationsKey(cell, test string) string { return cell + " " + test }

// loadDurations reads the cache's durations (none on a new cache).
func loadDurations(c *cache.Dir) *durations {
	d := &durations{m: map[string]int64{}, dty: map[string]bool{}}
	if c == nil {
		return d
	}
	d.path = filepath.Join(c.Root, "durations.json")
	var f durationsFile
	if b, err := os.ReadFile(d.path); err == nil && json.Unmarshal(b, &f) == nil {
		for k, v := range f.NS {
			d.m[k] = v
		}
		for k, v := range f.Dirty {
			d.dty[k] = v
		}
	}
	return d
}

func (d *durations) get(cell, test string) (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ns, ok := d.m[durationsKey(cell, test)]
	return time.Duration(ns), ok
}

func (d *durations) dirty(cell, test string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dty[durationsKey(cell, test)]
}

func (d *durations) set(cell, test string, took time.Duration) {
	d.mu.Lock()
	d.m[durationsKey(cell, test)] = took.Nanoseconds()
	d.mu.Unlock()
}

// setDirty records whether the test left its VM unfit for another.
func (d *durations) setDirty(cell, test string, dirty bool) {
	d.mu.Lock()
	if dirty {
		d.dty[durationsKey(cell, test)] = true
	} else {
		delete(d.dty, durationsKey(cell, test))
	}
	d.mu.Unlock()
}

// save writes the durations back (atomically: runs may end together).
func (d *durations) save() {
	if d.path == "" {
		return
	}
	d.mu.Lock()
	b, err := json.Marshal(durationsFile{NS: d.m, Dirty: d.dty})
	d.mu.Unlock()
	if err == nil {
		_ = cache.WriteFileAtomic(d.path, b, 0o600)
	}
}

// estimate is how long a test is expected to take on the target named
// cell: as long as last time, else the waits its spec has.
func (d *durations) estimate(cell string, s *spec.Spec) time.Duration {
	if took, ok := d.get(cell, s.Name); ok {
		return took
	}
	w := time.Second // a boot and a step or two
	for _, st := range s.Steps {
		w += st.Sleep.Std()
	}
	return w
}

// stream follows each cell's progress: once every test of a cell has run
// and others remain, the cell's summary is logged (a streamed run shows
// finished cells while later kernels build).
type stream struct {
	m       *Matrix
	base    *Options
	mu      sync.Mutex
	left    []int  // per cell: tests queued and not finished
	ready   []bool // per cell: every target prepared (or failed)
	printed []bool
	start   time.Time
}

func newStream(m *Matrix, base *Options) *stream {
	n := len(m.Cells)
	return &stream{m: m, base: base, left: make([]int, n), ready: make([]bool, n), printed: make([]bool, n), start: time.Now()}
}

func (s *stream) queued(j, n int) {
	s.mu.Lock()
	s.left[j] += n
	s.mu.Unlock()
}

func (s *stream) done(j int) {
	s.mu.Lock()
	s.left[j]--
	s.report(j)
	s.mu.Unlock()
}

func (s *stream) prepared(j int) {
	s.mu.Lock()
	s.ready[j] = true
	s.report(j)
	s.mu.Unlock()
}

// report logs cell j's summary when it has finished and the run has more
// than one cell (with one, the final table says it all).
func (s *stream) report(j int) {
	if !s.ready[j] || s.left[j] > 0 || s.printed[j] || len(s.m.Cells) < 2 {
		return
	}
	s.printed[j] = true
	var pass, fail, skip int
	var bad []string
	for i := range s.m.Tests {
		r := s.m.Result(i, j)
		switch {
		case r.Test == "":
		case r.Outcome == result.Pass:
			pass++
		case r.Outcome == result.Skip:
			skip++
		default:
			fail++
			bad = append(bad, "  "+r.Summary())
		}
	}
	fmt.Fprintf(s.base.log(), "cell %s done after %s: %d passed, %d failed, %d skipped\n", s.m.Cells[j].Label(),
		time.Since(s.start).Round(100*time.Millisecond), pass, fail, skip)
	for _, b := range bad {
		fmt.Fprintln(s.base.log(), firstLine(b))
	}
}
