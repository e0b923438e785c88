package klog

import "testing"

func TestSourceLine(t *testing.T) {
	for header, want := range map[string]string{
		"kernel BUG at crashers.c:34!":                                        "crashers.c:34",
		"BUG: sleeping function called from invalid context at crashers.c:47": "crashers.c:47",
		"BUG: kernel NULL pointer dereference, address: 0000000000000000":     "",
	} {
		if got := SourceLine(header); got != want {
			t.Errorf("SourceLine(%q) = %q, want %q", header, got, want)
		}
	}
}
