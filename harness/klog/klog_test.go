package klog

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// golden is a testdata log: header lines ("KIND: ...", "# comment"), a blank
// line, then the raw log. A file without KIND: asserts a clean log. KIND,
// TITLE, FUNC, MODULE and OOPS describe the first report; COUNT (default 1)
// is how many reports the log holds.
type golden struct {
	header map[string]string
	lines  []string
}

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(b), "\n\n")
	if !ok {
		t.Fatalf("%s: no blank line between header and log", path)
	}
	g := golden{header: map[string]string{}}
	for _, l := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && !strings.HasPrefix(l, "#") {
			g.header[k] = v
		}
	}
	g.lines = strings.Split(strings.TrimRight(body, "\n"), "\n")
	return g
}

func TestFindGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.log")
	if len(files) < 5 {
		t.Fatalf("only %d golden logs found", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			g := readGolden(t, f)
			reps := Find(g.lines)
			if _, ok := g.header["KIND"]; !ok {
				if len(reps) != 0 {
					t.Fatalf("clean log: Find = %+v, want no report", reps)
				}
				return
			}
			want := 1
			if c, ok := g.header["COUNT"]; ok {
				fmt.Sscan(c, &want)
			}
			if len(reps) != want {
				t.Fatalf("Find returned %d reports, want %d: %+v", len(reps), want, reps)
			}
			r := reps[0]
			check := func(field, got string) {
				if w, ok := g.header[field]; ok && w != got {
					t.Errorf("%s = %q, want %q", field, got, w)
				}
			}
			check("KIND", string(r.Kind))
			check("TITLE", r.Title)
			check("FUNC", r.Func)
			check("MODULE", r.Module)
			if w, ok := g.header["OOPS"]; ok && (w == "true") != r.Oops {
				t.Errorf("Oops = %v, want %s", r.Oops, w)
			}
			if want := g.header["INCOMPLETE"] == "true"; r.Incomplete != want {
				t.Errorf("Incomplete = %v, want %v (say INCOMPLETE: true for an excerpt that stops inside its report)", r.Incomplete, want)
			}
			if !strings.Contains(g.lines[r.Line], r.Header) {
				t.Errorf("Line %d = %q does not hold header %q", r.Line, g.lines[r.Line], r.Header)
			}
		})
	}
}

func TestParseRecord(t *testing.T) {
	cases := []struct {
		in   string
		want Record
	}{
		{"6,339,2124102,-;Hello, world\n", Record{Seq: 339, Level: 6, Usec: 2124102, Text: "Hello, world"}},
		{"4,12,5,-,caller=T25;line one\\x0aline two\n", Record{Seq: 12, Level: 4, Usec: 5, Text: "line one\nline two"}},
		{"14,7,9,-;user message\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:02.0\n", Record{Seq: 7, Level: 6, Facility: 1, Usec: 9, Text: "user message",
			Dict: map[string]string{"SUBSYSTEM": "pci", "DEVICE": "+pci:0000:00:02.0"}}},
		{"3,1,0,c;back\\\\slash \\x5c\n", Record{Seq: 1, Level: 3, Text: `back\\slash \`}},
	}
	for _, c := range cases {
		got, err := ParseRecord([]byte(c.in))
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", c.in, err)
			continue
		}
		if got.Seq != c.want.Seq || got.Level != c.want.Level || got.Facility != c.want.Facility ||
			got.Usec != c.want.Usec || got.Text != c.want.Text || len(got.Dict) != len(c.want.Dict) {
			t.Errorf("ParseRecord(%q) = %+v, want %+v", c.in, got, c.want)
		}
		for k, v := range c.want.Dict {
			if got.Dict[k] != v {
				t.Errorf("ParseRecord(%q).Dict[%s] = %q, want %q", c.in, k, got.Dict[k], v)
			}
		}
	}
	if got := (Record{Usec: 2124102, Text: "x"}).String(); got != "[    2.124102] x" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseRecordErrors(t *testing.T) {
	for _, in := range []string{"", "no header", "6,1;too few", "x,1,2,-;bad prio", "6,y,2,-;bad seq", "6,1,z,-;bad time"} {
		if _, err := ParseRecord([]byte(in)); err == nil {
			t.Errorf("ParseRecord(%q) succeeded, want an error", in)
		}
	}
}

func TestFindFoldsOopsIntoBUG(t *testing.T) {
	lines := []string{"BUG: unable to handle page fault for address: ffffc90000000000", "#PF: supervisor read", "Oops: 0000 [#1] SMP", "RIP: 0010:f+0x1/0x2 [m]"}
	reps := Find(lines)
	if len(reps) != 1 || !reps[0].Oops || reps[0].Title != "BUG: unable to handle page fault in f" || reps[0].Func != "f" || reps[0].Module != "m" {
		t.Errorf("Find = %+v, want one BUG report with Oops set, in f [m]", reps)
	}
}

// The taint letters a report explains come from its kind, or from the
// oops it includes.
func TestReportTaints(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"warning", []string{"WARNING: CPU: 0 PID: 93 at crashers.c:20 crashers_init+0x10/0x20 [crashers]"}, "W"},
		{"soft lockup", []string{"watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:93]"}, "L"},
		{"oops", []string{"Internal error: Oops: 0000000096000005 [#1] SMP"}, "DW"},
		{"gpf", []string{"general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP NOPTI"}, "DW"},
		{"BUG folded with its Oops", []string{"BUG: kernel NULL pointer dereference, address: 0000000000000000", "#PF: supervisor write access in kernel mode", "Oops: 0002 [#1] SMP"}, "DW"},
		{"BUG alone", []string{"BUG: kernel NULL pointer dereference, address: 0000000000000000"}, "W"},
		{"lockdep", []string{"WARNING: possible circular locking dependency detected"}, "W"},
	} {
		reps := Find(tc.lines)
		if len(reps) != 1 {
			t.Errorf("%s: Find = %+v, want one report", tc.name, reps)
			continue
		}
		if got := reps[0].Taints(); got != tc.want {
			t.Errorf("%s: %s report (oops %v): Taints() = %q, want %q", tc.name, reps[0].Kind, reps[0].Oops, got, tc.want)
		}
	}
	// Reports read back from a results file carry only their fields.
	for _, tc := range []struct {
		r    Report
		want string
	}{
		{Report{Kind: KindSoftLock}, "L"},
		{Report{Kind: KindSoftLock, Oops: true}, "DW"},
		{Report{Kind: KindWarning}, "W"},
		{Report{Kind: "NO_SUCH_KIND"}, "W"},
	} {
		if got := tc.r.Taints(); got != tc.want {
			t.Errorf("%+v.Taints() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// Every kind of the catalogue says which taint letters it explains, with
// letters the kernel's taint string uses, and the table names no other kind.
func TestTaintsCoverKinds(t *testing.T) {
	kinds := map[Kind]bool{}
	for _, p := range patterns {
		kinds[p.Kind] = true
		if letters, ok := taints[p.Kind]; !ok || letters == "" {
			t.Errorf("kind %s (pattern %q) explains no taint letter", p.Kind, p.Needle)
		}
	}
	for k, letters := range taints {
		if !kinds[k] {
			t.Errorf("taints names %s, which no pattern has", k)
		}
		for _, l := range letters {
			if l < 'A' || l > 'Z' {
				t.Errorf("taints[%s] = %q: %q is not a taint letter", k, letters, l)
			}
		}
	}
}

func TestStripTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"[    1.234567] Hello": "Hello", "[12345.000001]x": "x", "[ 0.1] a b": "a b",
		"[x] not a time": "[x] not a time", "[    1.2 no bracket": "[    1.2 no bracket", "": "", "[1.]": "[1.]",
	} {
		if got := StripTimestamp(in); got != want {
			t.Errorf("StripTimestamp(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTruncatedReports cuts every complete golden report a few lines after
// its header, as a VM that dies while printing it would: the report must
// still be found, with its kind, and marked Incomplete.
func TestTruncatedReports(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.log")
	var cut int
	for _, f := range files {
		g := readGolden(t, f)
		reps := Find(g.lines)
		if len(reps) == 0 || !reps[0].ends || reps[0].Incomplete {
			continue
		}
		cut++
		truncated := g.lines[:reps[0].Line+4]
		got := Find(truncated)
		if len(got) == 0 || got[0].Kind != reps[0].Kind || !got[0].Incomplete {
			t.Errorf("%s cut after its header: %+v, want a %s report marked incomplete", f, got, reps[0].Kind)
			continue
		}
		if !strings.Contains(Summary(got[:1]), "incomplete") {
			t.Errorf("%s: summary %q does not say incomplete", f, Summary(got[:1]))
		}
	}
	if cut < 20 {
		t.Errorf("only %d golden reports could be cut", cut)
	}
}

func TestSummaryCountsRepeats(t *testing.T) {
	rs := []Report{{Title: "soft lockup"}, {Title: "soft lockup"}, {Title: "BUG: oops"}, {Title: "soft lockup"}}
	if got, want := Summary(rs), "soft lockup (3 times); BUG: oops"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// Frames: the faulting function, arm64's link register and the call
// trace, with their modules; x86's "? func" is marked unreliable; a
// function named in a message before the trace is not a frame.
func TestFrames(t *testing.T) {
	x86 := []string{
		"[    1.2] BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"[    1.2] Oops: 0000 [#1] SMP",
		"[    1.2] RIP: 0010:crashers_null+0xb/0xf [crashers]",
		"[    1.2] Call Trace:",
		"[    1.2]  <TASK>",
		"[    1.2]  ? __die+0x1f/0x60",
		"[    1.2]  crashers_init+0x4d/0x1000 [crashers]",
		"[    1.2]  do_one_initcall+0x56/0x220",
		"[    1.2]  </TASK>",
		"[    1.2] ---[ end trace 0000000000000000 ]---",
		"[    1.2]  after_end+0x1/0x2",
	}
	r := Find(x86)
	if len(r) != 1 {
		t.Fatalf("x86: %d reports", len(r))
	}
	want := []Frame{
		{Func: "crashers_null", Off: 0xb, Size: 0xf, Module: "crashers", Kind: "pc", Line: 2},
		{Func: "__die", Off: 0x1f, Size: 0x60, Kind: "call", Unreliable: true, Line: 5},
		{Func: "crashers_init", Off: 0x4d, Size: 0x1000, Module: "crashers", Kind: "call", Line: 6},
		{Func: "do_one_initcall", Off: 0x56, Size: 0x220, Kind: "call", Line: 7},
	}
	if !reflect.DeepEqual(r[0].Frames, want) {
		t.Errorf("x86 frames:\n got %+v\nwant %+v", r[0].Frames, want)
	}
	arm := []string{
		"Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000",
		"Modules linked in: crashers(O+)",
		"pc : crashers_null+0xc/0x18 [crashers]",
		"lr : crashers_init+0x12c/0x1000 [crashers]",
		"Call trace:",
		" crashers_null+0xc/0x18 [crashers] (P)",
		" do_one_initcall+0x6c/0x184",
	}
	r = Find(arm)
	if len(r) != 1 || len(r[0].Frames) != 4 || r[0].Frames[0].Kind != "pc" || r[0].Frames[1].Kind != "lr" ||
		r[0].Frames[1].Func != "crashers_init" || r[0].Frames[2].Module != "crashers" || r[0].Frames[3].Module != "" {
		t.Errorf("arm64 frames: %+v", r)
	}
	if r[0].Title != "unable to handle kernel NULL pointer dereference in crashers_null" {
		t.Errorf("arm64 title %q", r[0].Title)
	}
}

func TestCleanTitle(t *testing.T) {
	for in, want := range map[string]string{
		"KASAN: use-after-free Read of size 4 in membugs_uaf.isra.0":                                "KASAN: use-after-free Read of size 4 in membugs_uaf",
		"WARNING in f.constprop.0.isra.0":                                                           "WARNING in f",
		"BUG: kernel NULL pointer dereference in g.part.1":                                          "BUG: kernel NULL pointer dereference in g",
		"memory leak in h.cold (64 bytes)":                                                          "memory leak in h (64 bytes)",
		"kernel BUG at crashers.c:34":                                                               "kernel BUG at crashers.c:34",
		"UBSAN: shift-out-of-bounds in /root/.cache/lkmtest/modbuild/14c0a8e8/tree/mb/membugs.c:63": "UBSAN: shift-out-of-bounds in mb/membugs.c:63",
	} {
		if got := CleanTitle(in); got != want {
			t.Errorf("CleanTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
