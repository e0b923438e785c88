package verdict

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/symbol"
)

// Symbolizer fills in the source lines of a report's frames.
type Symbolizer func(*klog.Report)

// NewSymbolizer symbolizes the frames of the modules of t, naming files
// relative to dir (the spec's directory) when they are inside it. A nil
// table symbolizes nothing.
func NewSymbolizer(t *symbol.Table, dir string) Symbolizer {
	return func(r *klog.Report) {
		if t == nil {
			return
		}
		for i := range r.Frames {
			f := &r.Frames[i]
			if f.Func == "" && f.Addr != 0 {
				// An address only (kmemleak, after rmmod): its module
				// from where the guest had loaded it.
				if mod, loc, err := t.LookupAddr(f.Addr, f.Kind != "pc"); err == nil {
					f.Module, f.Func, f.File, f.LineNo = mod, loc.Func, displayPath(loc.File, dir), loc.Line
				}
				continue
			}
			if f.Module == "" && t.HasKernel() {
				// The kernel's frame: a line when its DWARF has one
				// (an assembly entry point has none), else nothing.
				if loc, err := t.Lookup("", f.Func, f.Off, f.Kind != "pc"); err == nil {
					f.File, f.LineNo = displayPath(loc.File, dir), loc.Line
				}
				continue
			}
			if f.Module == "" || !t.Has(f.Module) {
				continue
			}
			loc, err := t.Lookup(f.Module, f.Func, f.Off, f.Kind != "pc")
			if err != nil {
				f.NoLine = err.Error()
				continue
			}
			f.File, f.LineNo = displayPath(loc.File, dir), loc.Line
		}
	}
}

// displayPath is file relative to dir when it is inside it.
func displayPath(file, dir string) string {
	if dir == "" {
		return file
	}
	if abs, err := filepath.Abs(dir); err == nil {
		if rel, err := filepath.Rel(abs, file); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return file
}

// symbolizeAll runs sym (if any) on every report.
func symbolizeAll(sym Symbolizer, reps []klog.Report) {
	if sym == nil {
		return
	}
	for i := range reps {
		sym(&reps[i])
	}
}

// withLocations appends each symbolized frame's source line to its line
// of lines (a copy): "crashers_null+0xb/0xf [crashers] (crashers.c:23)".
func withLocations(lines []string, reps []klog.Report) []string {
	out := append([]string(nil), lines...)
	for _, r := range reps {
		for _, f := range r.Frames {
			if f.File != "" && f.Line < len(out) {
				out[f.Line] += fmt.Sprintf(" (%s:%d)", f.File, f.LineNo)
			}
		}
	}
	return out
}

// reportSource is the source line a report points at: the one its header
// names ("kernel BUG at crashers.c:34!"), else its first symbolized frame
// in a module of the test (the faulting instruction first), else its
// first symbolized frame of the kernel's.
func reportSource(r klog.Report) string {
	if s := klog.SourceLine(r.Header); s != "" {
		return s
	}
	for _, pass := range []bool{true, false} {
		for _, f := range r.Frames {
			if f.File != "" && (f.Module != "") == pass {
				return fmt.Sprintf("%s:%d", f.File, f.LineNo)
			}
		}
	}
	return ""
}
