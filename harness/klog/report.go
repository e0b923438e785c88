package klog

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Report is one crash-like report found in a log.
type Report struct {
	// Kind classifies the report.
	Kind Kind `json:"kind"`
	// Title is a short, stable description ("WARNING in __alloc_pages").
	Title string `json:"title"`
	// Line is the index of the header line in the input.
	Line int `json:"line"`
	// Header is the header line itself.
	Header string `json:"header"`
	// Func is the faulting function, when the report names one.
	Func string `json:"func,omitempty"`
	// Module is the module the faulting function belongs to, if any.
	Module string `json:"module,omitempty"`
	// Frames are the report's stack: the faulting function, the link
	// register (arm64) and the call trace, as printed.
	Frames []Frame `json:"frames,omitempty"`
	// Oops is true when the report includes an Oops (the task was killed).
	Oops bool `json:"oops,omitempty"`
	// LeakSize and LeakComm are a kmemleak report's object size and the
	// task that allocated it.
	LeakSize int    `json:"leak_size,omitempty"`
	LeakComm string `json:"leak_comm,omitempty"`
	// Incomplete is true when the log ends inside the report: the kernel
	// closes it with "---[ end trace" and that line never came (the VM died
	// while printing it, or the log was cut).
	Incomplete bool `json:"incomplete,omitempty"`

	absorbs  []Kind
	absorbed []Kind // the kinds of the reports this one took in (their taints are its own)
	window   int
	ends     bool
	inFunc   bool
}

// Taints returns the taint letters r explains: those of its kind, or of
// an oops when it includes one (a BUG that ends in an Oops also killed its
// task). A kind the table lacks (a report saved by an older lkmtest)
// explains what a warning does.
func (r Report) Taints() string {
	k := r.Kind
	if r.Oops {
		k = KindOops
	}
	t, ok := taints[k]
	if !ok {
		t = taints[KindWarning]
	}
	for _, a := range r.absorbed {
		for _, c := range taints[a] {
			if !strings.ContainsRune(t, c) {
				t += string(c)
			}
		}
	}
	return t
}

// StripTimestamp removes a leading printk timestamp ("[    1.234567] ").
func StripTimestamp(line string) string {
	if len(line) < 4 || line[0] != '[' {
		return line
	}
	i := 1
	for i < len(line) && line[i] == ' ' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if digits() == 0 || i >= len(line) || line[i] != '.' {
		return line
	}
	i++
	if digits() == 0 || i >= len(line) || line[i] != ']' {
		return line
	}
	i++
	if i < len(line) && line[i] == ' ' {
		i++
	}
	return line[i:]
}

// needles are the distinct Needle values of the catalogue; a line with
// none of them starts no report.
var needles = func() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range patterns {
		if !seen[p.Needle] {
			seen[p.Needle] = true
			out = append(out, p.Needle)
		}
	}
	return out
}()

// MayStartReport reports whether a line could start a crash report (it
// holds one of the catalogue's literal needles): a cheap filter for what
// must never be thrown away.
func MayStartReport(line string) bool { return hasNeedle(line) }

func hasNeedle(line string) bool {
	for _, n := range needles {
		if strings.Contains(line, n) {
			return true
		}
	}
	return false
}

// Find returns the reports in lines, in order. Lines may carry printk
// timestamps (console logs) or not (kmsg records).
func Find(lines []string) []Report {
	var out []Report
	for i, raw := range lines {
		line := strings.TrimRight(StripTimestamp(raw), "\r")
		if !hasNeedle(line) {
			continue
		}
		for _, p := range patterns {
			if !strings.Contains(line, p.Needle) {
				continue
			}
			m := p.Header.FindStringSubmatchIndex(line)
			if m == nil {
				continue
			}
			if len(out) > 0 {
				prev := &out[len(out)-1]
				dist := i - prev.Line
				if p.Follows && dist <= followWindow {
					prev.Oops = true
					break
				}
				if slices.Contains(prev.absorbs, p.Kind) && dist <= prev.window {
					prev.Oops = prev.Oops || p.Kind == KindOops
					prev.absorbed = append(prev.absorbed, p.Kind)
					break
				}
			}
			r := Report{Kind: p.Kind, Line: i, Header: line, absorbs: p.Absorbs, window: cmp.Or(p.Window, followWindow), ends: p.Ends, inFunc: p.InFunc,
				Title: string(p.Header.ExpandString(nil, p.Title, line, m))}
			r.Oops = p.Kind == KindOops || p.Kind == KindGPF
			if p.Kind == KindSlab && i > 0 {
				r.Title = slabDamage(r.Title, lines[max(0, i-2):i])
			}
			r.Func, r.Module = findGuilty(lines[i+1 : min(len(lines), i+40)])
			if p.Access {
				r.Title = withAccess(r.Title, lines[i+1:min(len(lines), i+4)])
			}
			out = append(out, r)
			break
		}
	}
	for k := range out {
		before := len(lines)
		if k+1 < len(out) {
			before = out[k+1].Line
		}
		out[k].Frames = frames(lines, out[k].Line, before)
		if out[k].Kind == KindSlab {
			attributeObject(&out[k])
		}
		if out[k].Func == "" {
			// No faulting instruction printed (KASAN, UBSAN): the first
			// frame of a module in the trace is the culprit.
			for _, f := range out[k].Frames {
				if f.Module != "" {
					out[k].Func, out[k].Module = f.Func, f.Module
					break
				}
			}
		}
		if out[k].inFunc && out[k].Func != "" {
			out[k].Title += " in " + out[k].Func
		}
		out[k].Title = CleanTitle(out[k].Title)
		if !out[k].ends {
			continue
		}
		end := len(lines)
		if k+1 < len(out) {
			end = out[k+1].Line
		}
		out[k].Incomplete = true
		for _, l := range lines[out[k].Line+1 : end] {
			if strings.Contains(l, "---[ end ") {
				out[k].Incomplete = false
				break
			}
		}
	}
	return out
}

// overwrittenRE is the line 6.12's SLUB debug prints before "BUG cache
// (...): Object corrupt": what was overwritten ("[Poison overwritten]
// 0x...-0x... @offset=...").
var overwrittenRE = regexp.MustCompile(`^\[(\w[\w ]*? overwritten)\] 0x`)

// slabDamage titles 6.12's "Object corrupt" report by the damage the line
// before it names, as 6.1 titles it ("slab: Poison overwritten in
// kmalloc-256"), so that titles and allow-lists hold on both.
func slabDamage(title string, before []string) string {
	if !strings.HasPrefix(title, "slab: Object corrupt in ") {
		return title
	}
	for _, l := range before {
		if m := overwrittenRE.FindStringSubmatch(StripTimestamp(l)); m != nil {
			return "slab: " + m[1] + strings.TrimPrefix(title, "slab: Object corrupt")
		}
	}
	return title
}

// attributeObject names, in a SLUB debug report (poison overwritten, a
// double free, a corrupted redzone), the module whose object it is: the
// first function of a module in the object's allocation or free stack.
// The stack that detected the damage (a later allocation, a validation)
// is usually someone else's.
func attributeObject(r *Report) {
	for _, f := range r.Frames {
		if (f.Kind == "alloc" || f.Kind == "free") && f.Module != "" {
			r.Func, r.Module = f.Func, f.Module
			verb := "allocated"
			if f.Kind == "free" {
				verb = "freed"
			}
			r.Title += " (" + verb + " in " + f.Func + ")"
			return
		}
	}
}

// cloneSuffix is what GCC appends to the functions it clones or splits
// (".isra.0", ".constprop.0", ".part.0", ".cold").
var cloneSuffix = regexp.MustCompile(`(\.(?:isra|constprop|part|cold|llvm)(?:\.\d+)*)+\b`)

// mirrorPrefix is the path of the mirror lkmtest builds a module's tree in
// (…/modbuild/KEY/tree/), which the compiler leaves in some reports'
// file names (UBSAN's).
var mirrorPrefix = regexp.MustCompile(`/\S*/modbuild/[0-9a-f]+/tree/`)

// CleanTitle keeps a title the same across compilers, flags and caches:
// it drops compiler clone suffixes from function names ("KASAN:
// use-after-free in f.isra.0" is "... in f") and lkmtest's build mirror
// from file names (they are then relative to the module's tree).
func CleanTitle(title string) string {
	return mirrorPrefix.ReplaceAllString(cloneSuffix.ReplaceAllString(title, ""), "")
}

// accessRE is the access line of a KASAN report.
var accessRE = regexp.MustCompile(`^(Read|Write) of size (\d+) at addr`)

// withAccess puts the access the lines say ("Read of size 4") into title
// before its " in func".
func withAccess(title string, lines []string) string {
	for _, l := range lines {
		if m := accessRE.FindStringSubmatch(StripTimestamp(l)); m != nil {
			if i := strings.LastIndex(title, " in "); i >= 0 {
				return title[:i] + " " + m[1] + " of size " + m[2] + title[i:]
			}
			return title + " (" + m[1] + " of size " + m[2] + ")"
		}
	}
	return title
}

func findGuilty(lines []string) (fn, mod string) {
	for _, l := range lines {
		if m := guilty.FindStringSubmatch(StripTimestamp(l)); m != nil {
			return m[1], m[2]
		}
	}
	return "", ""
}

// Titles lists the reports' titles.
func Titles(rs []Report) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Title
	}
	return out
}

// Summary joins the titles for a one-line reason; an incomplete report
// says so.
func Summary(rs []Report) string {
	var out []string
	count := map[string]int{}
	for _, r := range rs {
		t := r.Title
		if r.Incomplete {
			t += " (incomplete: the log ends inside the report)"
		}
		if count[t]++; count[t] == 1 {
			out = append(out, t)
		}
	}
	for i, t := range out {
		if n := count[t]; n > 1 {
			out[i] = fmt.Sprintf("%s (%d times)", t, n)
		}
	}
	return strings.Join(out, "; ")
}
