package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/progress"
)

func TestLiveView(t *testing.T) {
	var buf bytes.Buffer
	l := newLive(&buf, 100)
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
	if d := describe(progress.Event{Task: "download linux-6.6.62.tar.xz", Phase: "downloading", Done: 50e6, Total: 200e6, Unit: "bytes"}, 0); d != "  download linux-6.6.62.tar.xz  downloading 50.0/200.0 MB (25%)  0s" {
		t.Errorf("describe download: %q", d)
	}
}

func TestObjectCounter(t *testing.T) {
	var events []progress.Event
	ctx := progress.With(t.Context(), func(e progress.Event) { events = append(events, e) })
	c := progress.NewObjectCounter(ctx, "kernel", 5)
	// Lines split across writes; only kbuild's object lines count.
	for _, chunk := range []string{"  CC      init/ma", "in.o\n  AS      arch/x86/entry/entry_64.o\n  HOSTCC  scripts/basic/fixdep\n",
		"  CC [M]  drivers/foo.o\nmake[1]: Entering directory\n  LD      vmlinux.o\n  AR      lib/lib.a\n  CALL    scripts/checksyscalls.sh\n"} {
		c.Write([]byte(chunk))
	}
	if c.Count() != 5 || len(events) != 5 || events[4].Done != 5 || events[4].Total != 5 || events[0].Unit != "objects" {
		t.Errorf("count %d, events %+v", c.Count(), events)
	}
}
