package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/progress"
)

func TestLiveView(t *testing.T) {
	var buf bytes.Buffer
	l := newLive(&buf, 100, 40)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }
	l.event(progress.Event{Task: "kernel 6.1.192 x86_64", Phase: "compiling", Done: 10, Total: 40, Unit: "objects"})
	l.event(progress.Event{Task: "hello on 6.1.192-x86_64", Phase: "step 1/2: insmod helloworld_lkm"})
	if got := buf.String(); !strings.Contains(got, "  kernel 6.1.192 x86_64  compiling 10/40 objects (25%)  0s\n") ||
		!strings.Contains(got, "  hello on 6.1.192-x86_64  step 1/2: insmod helloworld_lkm  0s\n") {
		t.Fatalf("live area:\n%q", got)
	}
	buf.Reset()
	clock = clock.Add(90 * time.Second)
	l.event(progress.Event{Task: "kernel 6.1.192 x86_64", Phase: "compiling", Done: 20, Total: 40, Unit: "objects"})
	// A log line: the two-line area is erased, the line printed, the area drawn again below it.
	l.Write([]byte("kernel built\n"))
	want := "\x1b[2A\x1b[J" + "  kernel 6.1.192 x86_64  compiling 20/40 objects (50%)  1m30s\n  hello on 6.1.192-x86_64  step 1/2: insmod helloworld_lkm  1m30s\n" +
		"\x1b[2A\x1b[J" + "kernel built\n" + "  kernel 6.1.192 x86_64  compiling 20/40 objects (50%)  1m30s\n  hello on 6.1.192-x86_64  step 1/2: insmod helloworld_lkm  1m30s\n"
	if got := buf.String(); got != want {
		t.Errorf("after a log line:\n%q\nwant\n%q", got, want)
	}
	buf.Reset()
	l.event(progress.Event{Task: "kernel 6.1.192 x86_64", End: true})
	if got := buf.String(); strings.Contains(got, "kernel 6.1.192") || !strings.Contains(got, "hello on") {
		t.Errorf("an ended task stays drawn:\n%q", got)
	}
	buf.Reset()
	l.close()
	if got := buf.String(); got != "\x1b[1A\x1b[J" {
		t.Errorf("close: %q", got)
	}
	// Many tasks on a small terminal: the area keeps to its rows, a
	// multi-line phase takes one line, and clear erases what was drawn.
	buf.Reset()
	small := newLive(&buf, 30, 5)
	small.now = l.now
	for i := 0; i < 6; i++ {
		small.event(progress.Event{Task: fmt.Sprintf("t%d", i), Phase: "run: sh -c |\n  line 2\n  line 3"})
	}
	buf.Reset()
	small.redraw()
	if got := buf.String(); strings.Count(got, "\n") != 3 || !strings.Contains(got, "… and 4 more") || strings.Contains(got, "line 2") ||
		!strings.HasPrefix(got, "\x1b[3A\x1b[J") {
		t.Errorf("small terminal:\n%q", got)
	}
	if d := describe(progress.Event{Task: "download linux-6.6.62.tar.xz", Phase: "downloading", Done: 50e6, Total: 200e6, Unit: "bytes"}, 0); d != "  download linux-6.6.62.tar.xz  downloading 50.0/200.0 MB (25%)  0s" {
		t.Errorf("describe download: %q", d)
	}
}
