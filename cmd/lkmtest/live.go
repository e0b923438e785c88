package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/lkmtest/lkmtest/harness/progress"
)

// live is the terminal's live view: one line per running task (kernel
// build, download, test VM) with its phase and progress, redrawn in place
// below the log lines, which scroll above it.
type live struct {
	mu      sync.Mutex
	w       io.Writer
	width   int
	order   []string
	state   map[string]progress.Event
	started map[string]time.Time
	drawn   int
	last    time.Time
	now     func() time.Time
}

func newLive(w io.Writer, width int) *live {
	if width <= 20 {
		width = 80
	}
	return &live{w: w, width: width, state: map[string]progress.Event{}, started: map[string]time.Time{}, now: time.Now}
}

// liveView returns the context and log writer of a command: on a terminal
// (stderr), outside CI and without -v, a live view; otherwise the context
// unchanged and stderr, so that logs stay plain lines.
func (c *common) liveView(ctx context.Context) (context.Context, io.Writer, func()) {
	fd := int(os.Stderr.Fd())
	if c.verbose || os.Getenv("CI") != "" || !term.IsTerminal(fd) {
		return ctx, os.Stderr, func() {}
	}
	width, _, _ := term.GetSize(fd)
	l := newLive(os.Stderr, width)
	return progress.With(ctx, l.event), l, l.close
}

func (l *live) event(e progress.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, known := l.state[e.Task]
	if e.End {
		if known {
			delete(l.state, e.Task)
			delete(l.started, e.Task)
			for i, t := range l.order {
				if t == e.Task {
					l.order = append(l.order[:i], l.order[i+1:]...)
					break
				}
			}
		}
	} else {
		if !known {
			l.order = append(l.order, e.Task)
			l.started[e.Task] = l.now()
		}
		l.state[e.Task] = e
	}
	// Redraw at most ten times a second, but at once when the set of tasks
	// changes.
	if known && !e.End && l.now().Sub(l.last) < 100*time.Millisecond {
		return
	}
	l.redraw()
}

// Write prints log lines above the live area.
func (l *live) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	n, err := l.w.Write(p)
	l.draw()
	return n, err
}

func (l *live) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

func (l *live) redraw() {
	l.clear()
	l.draw()
}

// clear moves up over the live area and erases it.
func (l *live) clear() {
	if l.drawn > 0 {
		fmt.Fprintf(l.w, "\x1b[%dA\x1b[J", l.drawn)
		l.drawn = 0
	}
}

func (l *live) draw() {
	var b strings.Builder
	for _, t := range l.order {
		line := describe(l.state[t], l.now().Sub(l.started[t]))
		if len(line) > l.width-1 {
			line = line[:l.width-2] + "…"
		}
		b.WriteString(line + "\n")
		l.drawn++
	}
	io.WriteString(l.w, b.String())
	l.last = l.now()
}

// describe is one task's line: "  kernel 6.1.192 x86_64  compiling 1234/2911 objects (42%)  1m12s".
func describe(e progress.Event, elapsed time.Duration) string {
	s := fmt.Sprintf("  %s  %s", e.Task, e.Phase)
	switch {
	case e.Unit == "bytes" && e.Total > 0:
		s += fmt.Sprintf(" %.1f/%.1f MB (%d%%)", float64(e.Done)/1e6, float64(e.Total)/1e6, e.Done*100/e.Total)
	case e.Unit == "bytes":
		s += fmt.Sprintf(" %.1f MB", float64(e.Done)/1e6)
	case e.Total > 0:
		s += fmt.Sprintf(" %d/%d %s (%d%%)", e.Done, e.Total, e.Unit, min(e.Done*100/e.Total, 99))
	case e.Unit != "":
		s += fmt.Sprintf(" %d %s", e.Done, e.Unit)
	}
	return s + "  " + elapsed.Truncate(time.Second).String()
}
