package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/klog"
)

// fakeKmsg stands for /dev/kmsg: a queue of records a reader has not read
// yet. A write logs a record at the end, as the kernel does (facility 1,
// the level of its "<N>" prefix), and finishes a pending partial line
// first: the kernel keeps a line printed without a trailing newline
// invisible to readers until the next record is stored.
type fakeKmsg struct {
	queue   []any // []byte records, or an error to return once
	seq     uint64
	partial string // a printk without its newline, not readable yet
	writes  []string
	failW   error
}

func (f *fakeKmsg) printk(text string) {
	f.flush()
	f.queue = append(f.queue, []byte(fmt.Sprintf("6,%d,%d,-;%s\n", f.seq, 1000+f.seq, text)))
	f.seq++
}

// printkPartial logs text without a trailing newline.
func (f *fakeKmsg) printkPartial(text string) {
	f.flush()
	f.partial = text
}

func (f *fakeKmsg) flush() {
	if f.partial != "" {
		f.queue = append(f.queue, []byte(fmt.Sprintf("4,%d,%d,-;%s\n", f.seq, 1000+f.seq, f.partial)))
		f.seq++
		f.partial = ""
	}
}

func (f *fakeKmsg) read(p []byte) (int, error) {
	if len(f.queue) == 0 {
		return 0, unix.EAGAIN
	}
	item := f.queue[0]
	f.queue = f.queue[1:]
	if err, ok := item.(error); ok {
		return 0, err
	}
	return copy(p, item.([]byte)), nil
}

func (f *fakeKmsg) write(p []byte) (int, error) {
	if f.failW != nil {
		return 0, f.failW
	}
	s := string(p)
	f.writes = append(f.writes, s)
	f.flush()
	prio, text := 13, strings.TrimSuffix(s, "\n") // default: user.notice
	if strings.HasPrefix(text, "<") {
		end := strings.IndexByte(text, '>')
		fmt.Sscanf(text[1:end], "%d", &prio)
		text = text[end+1:]
	}
	f.queue = append(f.queue, []byte(fmt.Sprintf("%d,%d,%d,-;%s\n", prio, f.seq, 1000+f.seq, text)))
	f.seq++
	return len(p), nil
}

func newFake() (*fakeKmsg, *kmsgReader) {
	f := &fakeKmsg{seq: 100}
	return f, &kmsgReader{buf: make([]byte, 4096), read: f.read, write: f.write}
}

func texts(recs []klog.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Text)
	}
	return strings.Join(out, "|")
}

// A line printed without a trailing newline during a request is in that
// request's records, not the next one's; the marker is in neither, and
// its sequence number is not counted as lost.
func TestFinishTakesPartialLine(t *testing.T) {
	f, k := newFake()
	f.printk("hello")
	f.printkPartial("no newline")
	recs, lost := k.finish()
	if got := texts(recs); got != "hello|no newline" || lost != 0 {
		t.Errorf("request 1: %q, lost %d; want hello|no newline, 0", got, lost)
	}
	if len(f.writes) != 1 || f.writes[0] != "<15>lkmtest-agent: end of request 1\n" {
		t.Errorf("marker written as %q", f.writes)
	}
	f.printk("second")
	recs, lost = k.drain()
	if got := texts(recs); got != "second" || lost != 0 {
		t.Errorf("request 2 start: %q, lost %d; want second, 0 (the marker is no gap)", got, lost)
	}
	recs, lost = k.finish()
	if len(recs) != 0 || lost != 0 || k.next != f.seq {
		t.Errorf("request 2 end: %q, lost %d, next %d of %d", texts(recs), lost, k.next, f.seq)
	}
}

// Records logged after the marker (by a background program, a timer) are
// left for the next request.
func TestFinishStopsAtItsMarker(t *testing.T) {
	f, k := newFake()
	f.printk("mine")
	k.write = func(p []byte) (int, error) {
		n, err := f.write(p)
		f.printk("after the marker")
		return n, err
	}
	recs, _ := k.finish()
	if got := texts(recs); got != "mine" {
		t.Errorf("finish = %q, want mine", got)
	}
	recs, _ = k.drain()
	if got := texts(recs); got != "after the marker" {
		t.Errorf("next request = %q", got)
	}
}

// Only the agent's markers are dropped: a printk of the same text (a
// kernel record, facility 0) stays; a marker a drain meets (of an earlier
// request) is dropped too.
func TestMarkerFilter(t *testing.T) {
	f, k := newFake()
	f.printk(markerText(1))
	f.queue = append(f.queue, []byte(fmt.Sprintf("15,%d,0,-;%s\n", f.seq, markerText(7))))
	f.seq++
	f.printk("x")
	recs, lost := k.drain()
	if got := texts(recs); got != markerText(1)+"|x" || lost != 0 {
		t.Errorf("drain = %q, lost %d", got, lost)
	}
	for _, c := range []struct {
		r    klog.Record
		want bool
	}{
		{klog.Record{Facility: 1, Text: "lkmtest-agent: end of request 3"}, true},
		{klog.Record{Facility: 0, Text: "lkmtest-agent: end of request 3"}, false},
		{klog.Record{Facility: 1, Text: "some program's message"}, false},
	} {
		if isMarker(c.r) != c.want {
			t.Errorf("isMarker(%+v) = %v", c.r, !c.want)
		}
	}
}

// Overwritten records are counted as lost; when the marker itself was
// overwritten, or could not be written, finish returns what there is.
func TestFinishLostAndUnwritable(t *testing.T) {
	f, k := newFake()
	f.printk("a")
	k.drain()
	f.seq += 5 // five records overwritten before the reader came
	f.queue = append(f.queue, unix.EPIPE)
	f.printk("b")
	recs, lost := k.finish()
	if texts(recs) != "b" || lost != 5 {
		t.Errorf("after an overwrite: %q, lost %d; want b, 5", texts(recs), lost)
	}

	f, k = newFake()
	f.failW = errors.New("EPERM")
	f.printk("c")
	if recs, _ := k.finish(); texts(recs) != "c" {
		t.Errorf("without a marker: %q", texts(recs))
	}
}

// A flood: the records before the marker go through the agent's cap like
// any others, and the marker is never one of them.
func TestFinishFlood(t *testing.T) {
	f, k := newFake()
	const n = 3 * guest.MaxRecords
	for i := 0; i < n; i++ {
		f.printk(fmt.Sprintf("flood %d", i))
	}
	var resp guest.Response
	recs, lost := k.finish()
	addRecords(&resp, recs, lost)
	var dropped uint64
	resp.Records, dropped = guest.CapRecords(resp.Records, guest.MaxRecords)
	resp.Dropped += dropped
	if uint64(len(resp.Records))+resp.Dropped != n || resp.Lost != 0 {
		t.Errorf("kept %d + dropped %d, lost %d; want %d records in all", len(resp.Records), resp.Dropped, resp.Lost, n)
	}
	for _, r := range resp.Records {
		if isMarker(r) {
			t.Fatalf("the marker is in the response: %+v", r)
		}
	}
	if last := resp.Records[len(resp.Records)-1].Text; last != fmt.Sprintf("flood %d", n-1) {
		t.Errorf("last record %q", last)
	}
}
