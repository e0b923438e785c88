package symbol

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// compile builds testdata/twosect.c into a relocatable object, as a
// module's objects are, with cc and flags.
func compile(t testing.TB, cc string, flags ...string) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s is needed (make deps installs it): %v", cc, err)
	}
	out := filepath.Join(t.TempDir(), "twosect.ko")
	args := append([]string{"-c", "-O1", "-o", out, "testdata/twosect.c"}, flags...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

// lineOf is the line of testdata/twosect.c holding text.
func lineOf(t *testing.T, text string) int {
	t.Helper()
	b, err := os.ReadFile("testdata/twosect.c")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("no %q in twosect.c", text)
	return 0
}

// Both arches' relocations, DWARF 4 and 5: a function of .text and one of
// .init.text, both at offset 0 of their sections, map to their own lines.
func TestLookupSections(t *testing.T) {
	for _, c := range []struct {
		name, cc string
		flags    []string
	}{
		{"x86_64 DWARF 5", "x86_64-linux-gnu-gcc", []string{"-gdwarf-5"}},
		{"x86_64 DWARF 4", "x86_64-linux-gnu-gcc", []string{"-gdwarf-4"}},
		{"arm64 DWARF 5", "aarch64-linux-gnu-gcc", []string{"-gdwarf-5"}},
		{"arm64 DWARF 4", "aarch64-linux-gnu-gcc", []string{"-gdwarf-4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := c.cc
			if _, err := exec.LookPath(cc); err != nil && strings.HasPrefix(cc, "x86_64") {
				cc = "gcc" // the native compiler on an x86_64 host
			}
			ko := compile(t, cc, c.flags...)
			tab := NewTable(map[string]string{"two-sect": ko})
			if !tab.Has("two_sect") {
				t.Fatalf("the table does not know two_sect")
			}
			loc, err := tab.Lookup("two_sect", "in_init", 0, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := lineOf(t, "int in_init(void)"); loc.Line < want || loc.Line > want+2 || filepath.Base(loc.File) != "twosect.c" {
				t.Errorf("in_init+0 = %s, want twosect.c:%d or just after", loc, want)
			}
			loc, err = tab.Lookup("two_sect", "in_text", 0, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := lineOf(t, "void in_text(int x)"); loc.Line < want || loc.Line > want+3 {
				t.Errorf("in_text+0 = %s, want twosect.c:%d or just after", loc, want)
			}
			if _, err := tab.Lookup("two_sect", "no_such", 0, false); err == nil {
				t.Errorf("a function the module lacks was found")
			}
		})
	}
}

// A module without debug info says so.
func TestNoDebugInfo(t *testing.T) {
	ko := compile(t, "gcc", "-g0")
	_, err := NewTable(map[string]string{"m": ko}).Lookup("m", "in_text", 0, false)
	if !errors.Is(err, ErrNoDebugInfo) {
		t.Errorf("lookup in a module without DWARF: %v, want ErrNoDebugInfo", err)
	}
}

// An address a report gives after rmmod (kmemleak's) finds its module and
// line from where the guest had loaded its sections.
func TestLookupAddr(t *testing.T) {
	ko := compile(t, "gcc", "-gdwarf-5")
	tab := NewTable(map[string]string{"two-sect": ko})
	secs := tab.CodeSections("two_sect")
	if !slices.Contains(secs, ".text") || !slices.Contains(secs, ".init.text") {
		t.Fatalf("code sections %v, want .text and .init.text", secs)
	}
	tab.SetLoaded("two_sect", map[string]uint64{".text": 0xffffffffa0000000, ".init.text": 0xffffffffa0010000})
	mod, loc, err := tab.LookupAddr(0xffffffffa0010000, false)
	// (in_init, not its alias init_module, whatever the map's order.)
	if want := lineOf(t, "int in_init(void)"); err != nil || mod != "two_sect" || loc.Func != "in_init" || loc.Line < want || loc.Line > want+2 {
		t.Errorf("LookupAddr(.init.text+0) = %s, %s, %v; want two_sect, twosect.c:%d or just after", mod, loc, err, want)
	}
	if _, _, err := tab.LookupAddr(0xffffffff81000000, false); err == nil {
		t.Errorf("a vmlinux address was found in a module")
	}
}

// BenchmarkSymbolize is the cost of symbolizing a report's frame from a
// cold table: open the .ko, place its sections, read its DWARF, find the
// line (goal: ≤ 50 ms).
func BenchmarkSymbolize(b *testing.B) {
	ko := compile(b, "gcc", "-gdwarf-5")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewTable(map[string]string{"m": ko}).Lookup("m", "in_init", 0, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
}

// Code a header's inline function put into a function maps to the
// function's own line that called it, on both arches.
func TestLookupInlined(t *testing.T) {
	for _, cc := range []string{"gcc", "aarch64-linux-gnu-gcc"} {
		t.Run(cc, func(t *testing.T) {
			if _, err := exec.LookPath(cc); err != nil {
				t.Fatalf("%s is needed (make deps installs it): %v", cc, err)
			}
			ko := filepath.Join(t.TempDir(), "inlined.ko")
			if b, err := exec.Command(cc, "-c", "-O2", "-gdwarf-5", "-o", ko, "testdata/inlined.c").CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cc, err, b)
			}
			tab := NewTable(map[string]string{"inlined": ko})
			b, _ := os.ReadFile("testdata/inlined.c")
			call := 0
			for i, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "/* the call site */") {
					call = i + 1
				}
			}
			atCall := 0
			for off := uint64(0); off < 16; off++ {
				loc, err := tab.Lookup("inlined", "caller", off, false)
				if err != nil {
					t.Fatalf("caller+%#x: %v", off, err)
				}
				if filepath.Base(loc.File) != "inlined.c" {
					t.Errorf("caller+%#x = %s, want a line of inlined.c", off, loc)
				}
				if loc.Line == call {
					atCall++
				}
			}
			if atCall == 0 {
				t.Errorf("no offset of caller maps to the call at inlined.c:%d", call)
			}
		})
	}
}

// A linked image with debug info (vmlinux, here a small executable linked
// the same way) symbolizes the kernel's own frames, inlined code at its
// call site; one without debug info is not taken.
func TestKernelFrames(t *testing.T) {
	for _, cc := range []string{"gcc", "aarch64-linux-gnu-gcc"} {
		t.Run(cc, func(t *testing.T) {
			if _, err := exec.LookPath(cc); err != nil {
				t.Fatalf("%s is needed (make deps installs it): %v", cc, err)
			}
			dir := t.TempDir()
			link := func(name string, flags ...string) string {
				out := filepath.Join(dir, name)
				args := append([]string{"-O2", "-no-pie", "-nostdlib", "-Wl,-e,caller", "-o", out, "testdata/inlined.c"}, flags...)
				if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
				}
				return out
			}
			if tab := NewTable(nil); tab.SetKernel(link("vmlinux-nodebug", "-g0")) || tab.HasKernel() {
				t.Errorf("an image without debug info was taken")
			}
			tab := NewTable(nil)
			if !tab.SetKernel(link("vmlinux", "-gdwarf-5")) || !tab.HasKernel() {
				t.Fatalf("SetKernel refused an image with debug info")
			}
			loc, err := tab.Lookup("", "caller", 4, true)
			if err != nil || filepath.Base(loc.File) != "inlined.c" {
				t.Errorf("caller+0x4 = %s, %v; want a line of inlined.c", loc, err)
			}
			if want := lineOf2(t, "testdata/inlined.c", "sink = x;\n}"); loc.Line < want-3 || loc.Line > want {
				t.Errorf("caller+0x4 = %s, want a line of caller's body (up to %d)", loc, want)
			}
			if _, err := tab.Lookup("", "no_such_function", 0, false); err == nil {
				t.Errorf("a function the image lacks was found")
			}
		})
	}
}

// lineOf2 is the line of file where text (which may span lines) starts.
func lineOf2(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), text)
	if i < 0 {
		t.Fatalf("no %q in %s", text, file)
	}
	return strings.Count(string(b[:i]), "\n") + 1
}
