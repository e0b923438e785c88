package klog

import "regexp"

// sourceRE finds the "file.c:123" a report header names: "WARNING: CPU: 0
// PID: 25 at hello.c:29 func+0x0/0x10", "kernel BUG at hello.c:34!",
// "BUG: sleeping function called from invalid context at hello.c:47".
var sourceRE = regexp.MustCompile(` at ([A-Za-z0-9_./+-]+\.[chS]):([0-9]+)\b`)

// SourceLine returns the "file:line" a crash report's header names, or "".
func SourceLine(header string) string {
	m := sourceRE.FindStringSubmatch(header)
	if m == nil {
		return ""
	}
	return m[1] + ":" + m[2]
}
