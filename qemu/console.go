package qemu

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync"
)

// copyConsole copies QEMU's standard output, the serial console, to the
// Console option a line at a time (a 64 KiB piece of a longer one), so
// that the consoles of VMs sharing a writer interleave by lines. It reads
// on when a write fails: QEMU must never block on a full pipe.
func (vm *VM) copyConsole(r io.Reader) {
	defer vm.console.Done()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.ReadSlice('\n')
		if vm.opts.Console != nil && len(b) > 0 {
			_, _ = vm.opts.Console.Write(b)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// CleanLine removes the line ending, escape sequences and control characters
// (firmware writes some before the kernel's first line).
func CleanLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b: // ESC [ ... final byte
			if i+1 < len(s) && s[i+1] == '[' {
				i += 2
				for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
					i++
				}
			}
		case c == '\t' || c >= 0x20 && c != 0x7f:
			b.WriteByte(c)
		}
	}
	return b.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
