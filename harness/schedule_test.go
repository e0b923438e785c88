package harness

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// The queue hands out the longest job first, keeps the order asked among
// equals, and ends once closed and empty.
func TestQueueLongestFirst(t *testing.T) {
	q := newQueue()
	q.add(weighted{job{0, 0}, time.Second, false}, weighted{job{1, 0}, 5 * time.Second, false}, weighted{job{2, 0}, time.Second, false})
	q.add(weighted{job{3, 1}, 3 * time.Second, false})
	q.close()
	var got []int
	for {
		jb, ok := q.take(nil)
		if !ok {
			break
		}
		got = append(got, jb.i)
	}
	if want := []int{1, 3, 0, 2}; !equalInts(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// A worker keeping a VM takes the longest job of its rank: those that fit
// the VM and leave it as found, then those that fit it, then any.
func TestQueueRank(t *testing.T) {
	q := newQueue()
	q.add(weighted{job{0, 0}, 5 * time.Second, false}, weighted{job{1, 1}, 4 * time.Second, true},
		weighted{job{2, 1}, time.Second, false}, weighted{job{3, 1}, 2 * time.Second, false})
	q.close()
	rank := func(w weighted) int {
		switch {
		case w.j != 1:
			return 0
		case w.dirty:
			return 1
		}
		return 2
	}
	var got []int
	for {
		jb, ok := q.take(rank)
		if !ok {
			break
		}
		got = append(got, jb.i)
	}
	if want := []int{3, 2, 1, 0}; !equalInts(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// Durations and dirtiness survive a save and a load.
func TestDurationsSaved(t *testing.T) {
	c := &cache.Dir{Root: t.TempDir()}
	d := loadDurations(c)
	d.set("c", "a", time.Second)
	d.setDirty("c", "a", true)
	d.setDirty("c", "b", false)
	d.save()
	d = loadDurations(c)
	if took, ok := d.get("c", "a"); !ok || took != time.Second || !d.dirty("c", "a") || d.dirty("c", "b") {
		t.Errorf("after a reload: %v %v, dirty %v %v", took, ok, d.dirty("c", "a"), d.dirty("c", "b"))
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A test never run weighs its spec's sleeps; one run before, its time.
func TestDurationsEstimate(t *testing.T) {
	d := loadDurations(nil)
	s := fakeSpec(t, "name: sleepy\nsteps:\n  - sleep: 2s\n  - sleep: 500ms\n")
	if got := d.estimate("6.1.192-x86_64", s); got != 3500*time.Millisecond {
		t.Errorf("estimate of a new test = %s, want 3.5s (1s + its sleeps)", got)
	}
	d.set("6.1.192-x86_64", "sleepy", 700*time.Millisecond)
	if got := d.estimate("6.1.192-x86_64", s); got != 700*time.Millisecond {
		t.Errorf("estimate after a run = %s, want 700ms", got)
	}
	if got := d.estimate("6.1.192-arm64", s); got != 3500*time.Millisecond {
		t.Errorf("another cell's estimate = %s, want the spec's 3.5s", got)
	}
}

// lockedBuffer is a log several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A cell's tests run as soon as its target is ready: the second cell's
// target is prepared only after the first cell's test has finished (were
// tests started after every target, this would never end), and the first
// cell's summary is logged while the second is still being prepared.
func TestStreamingRunsReadyCellsFirst(t *testing.T) {
	s := fakeSpec(t, oneStep)
	answer := func(*fakeVM, guest.Request) *guest.Response { return &guest.Response{} }
	firstDone := make(chan struct{})
	log := &lockedBuffer{}
	old := prepareTarget
	defer func() { prepareTarget = old }()
	prepareTarget = func(ctx context.Context, o *Options) (*Target, error) {
		tg, _ := fakeTarget(t, &fakeAgent{answer: answer}, "", builtHello)
		tg.Options.Arch = o.Arch
		if o.Arch == arch.ARM64 {
			select {
			case <-firstDone:
			case <-time.After(20 * time.Second):
				t.Errorf("the first cell's test had not finished when the second cell's target was prepared")
			}
			if !strings.Contains(log.String(), "cell 6.1-x86_64 done") && !strings.Contains(log.String(), "cell 6.1.192-x86_64 done") {
				t.Errorf("no summary of the first cell before the second was prepared:\n%s", log.String())
			}
		}
		return tg, nil
	}
	o := &Options{Out: t.TempDir(), Log: log, VMs: 2}
	go func() {
		// The first cell's result appears once its test ran.
		for !strings.Contains(log.String(), "done after") {
			time.Sleep(10 * time.Millisecond)
		}
		close(firstDone)
	}()
	m, err := RunMatrix(context.Background(), o, []Cell{NewCell("6.1", arch.X86_64), NewCell("6.1", arch.ARM64)}, []*spec.Spec{s})
	if err != nil {
		t.Fatal(err)
	}
	for j := range m.Cells {
		if r := m.Result(0, j); r.Outcome != result.Pass {
			t.Errorf("cell %d: %s", j, r.Summary())
		}
	}
}
