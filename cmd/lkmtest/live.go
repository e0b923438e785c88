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
	rows    int
	size    func() (width, rows int) // the terminal's size now (nil: fixed)
	stop    chan struct{}
	order   []string
	state   map[string]progress.Event
	started map[string]time.Time
	drawn   int
	last    time.Time
	now     func() time.Time
}

func newLive(w io.Writer, width, rows int) *live {
	l := &live{w: w, state: map[string]progress.Event{}, started: map[string]time.Time{}, now: time.Now}
	l.resize(width, rows)
	return l
}

func (l *live) resize(width, rows int) {
	if width <= 20 {
		width = 80
	}
	if rows <= 2 {
		rows = 24
	}
	l.width, l.rows = width, rows
}

// liveView returns the context and log writer of a command: on a terminal
// (stderr), outside CI and without -v, a live view; otherwise the context
// unchanged and stderr, so that logs stay plain lines.
func (c *common) liveView(ctx context.Context) (context.Context, io.Writer, func()) {
	fd := int(os.Stderr.Fd())
	if c.verbose || readEnv().ci || !term.IsTerminal(fd) {
		return ctx, os.Stderr, func() {}
	}
	width, rows, _ := term.GetSize(fd)
	l := newLive(os.Stderr, width, rows)
	l.size = func() (int, int) {
		w, h, _ := term.GetSize(fd)
		return w, h
	}
	// Elapsed times move, and a phase drawn late is shown, once a second.
	stop := make(chan struct{})
	l.stop = stop
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.redraw()
				l.mu.Unlock()
			}
		}
	}()
	return progress.With(ctx, l.event), l, l.close
}

func (l *live) event(e progress.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, known := l.state[e.Task]
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
	if known && !e.End && e.Phase == prev.Phase && l.now().Sub(l.last) < 100*time.Millisecond {
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
	if l.stop != nil {
		close(l.stop)
		l.stop = nil
	}
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

// draw writes one screen line per task: control characters removed, cut
// to the width, and no more lines than the terminal has rows (the rest
// summed up), so that clear always erases exactly what draw wrote.
func (l *live) draw() {
	if l.size != nil {
		l.resize(l.size())
	}
	var b strings.Builder
	shown := l.order
	if max := l.rows - 2; len(shown) > max {
		shown = shown[:max-1]
	}
	for _, t := range shown {
		b.WriteString(fitLine(describe(l.state[t], l.now().Sub(l.started[t])), l.width) + "\n")
		l.drawn++
	}
	if n := len(l.order) - len(shown); n > 0 {
		b.WriteString(fitLine(fmt.Sprintf("  … and %d more", n), l.width) + "\n")
		l.drawn++
	}
	io.WriteString(l.w, b.String())
	l.last = l.now()
}

// fitLine keeps the first line of s, without control characters, in
// width-1 columns (runes).
func fitLine(s string, width int) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > width-1 {
		s = string(r[:width-2]) + "…"
	}
	return s
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
