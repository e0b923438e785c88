package klog

import (
	"regexp"
	"strconv"
	"strings"
)

// Frame is one function of a report's stack: the faulting one (x86
// "RIP: 0010:", arm64 "pc : "), arm64's link register ("lr : "), or a
// line of the call trace (x86 "Call Trace:", arm64 "Call trace:").
type Frame struct {
	// Func is the function; Off and Size the offset into it and its size
	// ("func+0x1a/0x40").
	Func      string `json:"func"`
	Off, Size uint64 `json:"-"`
	// Module is the module the function is in ("" for vmlinux).
	Module string `json:"module,omitempty"`
	// Addr is the frame's address when the report gives one (kmemleak);
	// with Func empty it is all there is (a module already unloaded).
	Addr uint64 `json:"addr,omitempty"`
	// Kind is "pc" (the faulting instruction), "lr" or "call" (a return
	// address: the call is the instruction before it).
	Kind string `json:"kind"`
	// Unreliable marks x86's "? func": a stale value on the stack.
	Unreliable bool `json:"unreliable,omitempty"`
	// Line is the index of the frame's line in the input.
	Line int `json:"-"`
	// File and LineNo are its source line, once symbolized; NoLine says
	// why a frame of a test's module has none (a module without debug
	// info).
	File   string `json:"file,omitempty"`
	LineNo int    `json:"line,omitempty"`
	NoLine string `json:"no_line,omitempty"`
}

// frameRE matches a frame line: an optional "RIP: 0010:", "pc : " or
// "lr : ", an optional "? ", then func+0xOFF/0xSIZE and an optional
// [module] (arm64 6.13+ may add " (P)" or " (L)").
var frameRE = regexp.MustCompile(`^\s*(RIP: [0-9a-f]{4}:|pc : |lr : )?(\? )?([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?(?: \([A-Z]\))?\s*$`)

// frameWindow bounds how far after its header a report's frames go.
const frameWindow = 80

// trackRE matches the line that starts an object's allocation or free
// stack in a memory report: SLUB debug's "Allocated in func+0x1/0x2 [mod]
// age=..." (the line is itself a frame), KASAN's "Freed by task 50:" and
// KFENCE's "allocated by task 50 on cpu 0 at 1.2s:".
var trackRE = regexp.MustCompile(`^(?:(Allocated|Freed) in (\S+)(?: \[[A-Za-z0-9_]+\])? age=|(Allocated|Freed) by task \d+:|(allocated|freed) by task \d+ on cpu \d+)`)

// accessRE starts the stack of a KFENCE report's bad access (it prints no
// "Call Trace:" line).
var kfenceAccessRE = regexp.MustCompile(`^(?:Use-after-free|Out-of-bounds|Invalid) (?:read|write|free)\b|^Corrupted memory at`)

// frames parses the frames of the report whose header is lines[from], up
// to its end ("---[ end"), the next report's header (at before) or
// frameWindow lines. A frame's Kind is "pc", "lr", "call" (the call trace,
// or a KFENCE access's stack) or "alloc"/"free" (the object's allocation
// and free stacks that memory reports print).
func frames(lines []string, from, before int) []Frame {
	var out []Frame
	mode := "" // the kind of the bare frame lines that come now ("": none)
	for i := from + 1; i < min(before, from+frameWindow, len(lines)); i++ {
		l := strings.TrimRight(StripTimestamp(lines[i]), "\r")
		if strings.Contains(l, "---[ end ") {
			break
		}
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Call Trace:") || strings.HasPrefix(t, "Call trace:") || kfenceAccessRE.MatchString(t) {
			mode = "call"
			continue
		}
		if m := trackRE.FindStringSubmatch(t); m != nil {
			mode = strings.ToLower(m[1] + m[3] + m[4])
			if mode == "allocated" {
				mode = "alloc"
			} else {
				mode = "free"
			}
			if m[2] != "" { // SLUB debug names the caller on the line itself
				if f, ok := parseFrame(m[2]+" "+moduleOf(t), mode, i); ok {
					out = append(out, f)
				}
			}
			continue
		}
		m := frameRE.FindStringSubmatch(l)
		if m == nil {
			if mode == "alloc" || mode == "free" {
				mode = "" // the stack ended (KASAN's blank line, SLUB's "Slab 0x...")
			}
			continue
		}
		kind := mode
		switch m[1] {
		case "":
			if mode == "" {
				continue // a function named in a message, not a frame
			}
		case "lr : ":
			kind = "lr"
		default:
			kind = "pc"
		}
		out = append(out, frameOf(m, kind, i))
	}
	return out
}

// moduleOf returns the "[mod]" of a SLUB track line ("" when none).
func moduleOf(line string) string { return trackModRE.FindString(line) }

var trackModRE = regexp.MustCompile(`\[[A-Za-z0-9_]+\]`)

// parseFrame parses "func+0x1/0x2 [mod]" as a frame of kind at line i.
func parseFrame(s, kind string, i int) (Frame, bool) {
	m := frameRE.FindStringSubmatch(s)
	if m == nil {
		return Frame{}, false
	}
	return frameOf(m, kind, i), true
}

func frameOf(m []string, kind string, i int) Frame {
	off, _ := strconv.ParseUint(m[4], 16, 64)
	size, _ := strconv.ParseUint(m[5], 16, 64)
	return Frame{Func: m[3], Off: off, Size: size, Module: m[6], Kind: kind, Unreliable: m[2] != "", Line: i}
}
