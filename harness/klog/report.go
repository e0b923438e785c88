package klog

import (
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
	// Oops is true when the report includes an Oops (the task was killed).
	Oops bool `json:"oops,omitempty"`

	absorbs []Kind
}

// timestamp matches the "[    1.234567] " prefix of console and dmesg lines.
var timestamp = regexp.MustCompile(`^\[\s*\d+\.\d+\]\s?`)

// StripTimestamp removes a leading printk timestamp.
func StripTimestamp(line string) string {
	return timestamp.ReplaceAllString(line, "")
}

// Find returns the reports in lines, in order. Lines may carry printk
// timestamps (console logs) or not (kmsg records).
func Find(lines []string) []Report {
	var out []Report
	for i, raw := range lines {
		line := StripTimestamp(raw)
		for _, p := range patterns {
			m := p.Header.FindStringSubmatchIndex(line)
			if m == nil {
				continue
			}
			if len(out) > 0 && i-out[len(out)-1].Line <= followWindow {
				prev := &out[len(out)-1]
				if p.Follows {
					prev.Oops = true
					break
				}
				if slices.Contains(prev.absorbs, p.Kind) {
					prev.Oops = prev.Oops || p.Kind == KindOops
					break
				}
			}
			r := Report{Kind: p.Kind, Line: i, Header: line, absorbs: p.Absorbs,
				Title: string(p.Header.ExpandString(nil, p.Title, line, m))}
			r.Oops = p.Kind == KindOops || p.Kind == KindGPF
			r.Func, r.Module = findGuilty(lines[i+1 : min(len(lines), i+40)])
			out = append(out, r)
			break
		}
	}
	return out
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

// Summary joins the titles for a one-line reason.
func Summary(rs []Report) string { return strings.Join(Titles(rs), "; ") }
