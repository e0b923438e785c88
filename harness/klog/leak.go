package klog

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// KindLeak is a kmemleak report: memory allocated and no longer
// referenced (a CRASH of kind LEAK; the kernel prints it only when asked,
// in /sys/kernel/debug/kmemleak).
const KindLeak Kind = "LEAK"

var (
	leakHeader = regexp.MustCompile(`^unreferenced object 0x([0-9a-f]+) \(size (\d+)\):`)
	leakComm   = regexp.MustCompile(`^\s*comm "([^"]*)", pid (\d+)`)
	// A backtrace line: "[<ffffffffa0000155>] membugs_leak+0x15/0x40 [membugs]",
	// "[<ffffffffa0000155>] 0xffffffffa0000155" (a module gone), or 6.9+'s
	// "    membugs_leak+0x15/0x40 [membugs]" without the address.
	leakFrame = regexp.MustCompile(`^\s*(?:\[<([0-9a-f]+)>\]\s+)?(?:0x([0-9a-f]+)|([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?)\s*$`)
)

// ParseLeaks reads the text of /sys/kernel/debug/kmemleak: one Report of
// KindLeak per unreferenced object, its Frames the allocation's
// backtrace, innermost first (Kind "call"; Addr set, and Func empty, for
// an address no symbol names: a module already unloaded). Size is in the
// title until symbolization names the allocating function (see
// LeakTitle).
func ParseLeaks(text string) []Report {
	var out []Report
	var cur *Report
	inTrace := false
	for i, line := range strings.Split(text, "\n") {
		if m := leakHeader.FindStringSubmatch(line); m != nil {
			out = append(out, Report{Kind: KindLeak, Line: i, Header: line})
			cur, inTrace = &out[len(out)-1], false
			cur.LeakSize, _ = strconv.Atoi(m[2])
			continue
		}
		if cur == nil {
			continue
		}
		if m := leakComm.FindStringSubmatch(line); m != nil {
			cur.LeakComm = m[1]
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "backtrace") {
			inTrace = true
			continue
		}
		if !inTrace {
			continue
		}
		m := leakFrame.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := Frame{Kind: "call", Line: i, Func: m[3], Module: m[6]}
		if m[2] != "" {
			f.Addr, _ = strconv.ParseUint(m[2], 16, 64)
		} else {
			// (The bracketed address is hashed, %p: of no use.)
			f.Off, _ = strconv.ParseUint(m[4], 16, 64)
			f.Size, _ = strconv.ParseUint(m[5], 16, 64)
		}
		cur.Frames = append(cur.Frames, f)
	}
	for i := range out {
		out[i].Title = LeakTitle(out[i])
	}
	return out
}

// LeakTitle titles a leak by the first frame of a module, or of the
// kernel past its allocator, that has a name: "memory leak in
// membugs_leak (64 bytes)".
func LeakTitle(r Report) string {
	fn := ""
	for _, f := range r.Frames {
		if f.Func != "" && (f.Module != "" || !allocator(f.Func)) {
			fn = f.Func
			break
		}
	}
	if fn == "" {
		return fmt.Sprintf("memory leak (%d bytes)", r.LeakSize)
	}
	return CleanTitle(fmt.Sprintf("memory leak in %s (%d bytes)", fn, r.LeakSize))
}

// allocator reports whether fn is one of the kernel's allocation functions
// (the top of every leak's trace, naming no culprit).
func allocator(fn string) bool {
	for _, p := range []string{"kmalloc", "__kmalloc", "kmem_cache_alloc", "__kmem_cache_alloc", "kmalloc_trace", "kzalloc",
		"krealloc", "kvmalloc", "__kvmalloc", "vmalloc", "__vmalloc", "kmemdup", "kstrdup", "slab_post_alloc_hook", "__alloc_pages", "alloc_pages"} {
		if fn == p || strings.HasPrefix(fn, p+"_") || strings.HasPrefix(fn, p+".") {
			return true
		}
	}
	return false
}
