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

// frames parses the frames of the report whose header is lines[from], up
// to its end ("---[ end"), the next report's header (at before) or
// frameWindow lines.
func frames(lines []string, from, before int) []Frame {
	var out []Frame
	inTrace := false
	for i := from + 1; i < min(before, from+frameWindow, len(lines)); i++ {
		l := strings.TrimRight(StripTimestamp(lines[i]), "\r")
		if strings.Contains(l, "---[ end ") {
			break
		}
		if strings.HasPrefix(strings.TrimSpace(l), "Call Trace:") || strings.HasPrefix(strings.TrimSpace(l), "Call trace:") {
			inTrace = true
			continue
		}
		m := frameRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		kind := "call"
		switch m[1] {
		case "":
			if !inTrace {
				continue // a function named in a message, not a frame
			}
		case "lr : ":
			kind = "lr"
		default:
			kind = "pc"
		}
		off, _ := strconv.ParseUint(m[4], 16, 64)
		size, _ := strconv.ParseUint(m[5], 16, 64)
		out = append(out, Frame{Func: m[3], Off: off, Size: size, Module: m[6], Kind: kind, Unreliable: m[2] != "", Line: i})
	}
	return out
}
