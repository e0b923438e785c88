package model

import (
	"slices"
	"strings"
	"testing"
)

// The book's 2nd-edition defaults (stepsz 204800) on x86_64: the table of
// book-examples.md §5.6, which matches the book's own plot data.
func TestKmallocWastageBookTable(t *testing.T) {
	lines, err := KmallocWastage(Env{Arch: "x86_64", Kernel: "6.1.192"}, map[string]int{"stepsz": 204800})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kmalloc(      n) :  Actual : Wastage : Waste %",
		"kmalloc(    100) :     128 :      28 :  28%",
		"kmalloc( 204900) :  262144 :   57244 :  27%",
		"kmalloc( 409700) :  524288 :  114588 :  27%",
		"kmalloc( 614500) : 1048576 :  434076 :  70%",
		"kmalloc( 819300) : 1048576 :  229276 :  27%",
		"kmalloc(1024100) : 1048576 :   24476 :   2%",
		"kmalloc(1228900) : 2097152 :  868252 :  70%",
		"kmalloc(1433700) : 2097152 :  663452 :  46%",
		"kmalloc(1638500) : 2097152 :  458652 :  27%",
		"kmalloc(1843300) : 2097152 :  253852 :  13%",
		"kmalloc(2048100) : 2097152 :   49052 :   2%",
		"kmalloc(2252900) : 4194304 : 1941404 :  86%",
		"kmalloc(2457700) : 4194304 : 1736604 :  70%",
		"kmalloc(2662500) : 4194304 : 1531804 :  57%",
		"kmalloc(2867300) : 4194304 : 1327004 :  46%",
		"kmalloc(3072100) : 4194304 : 1122204 :  36%",
		"kmalloc(3276900) : 4194304 :  917404 :  27%",
		"kmalloc(3481700) : 4194304 :  712604 :  20%",
		"kmalloc(3686500) : 4194304 :  507804 :  13%",
		"kmalloc(3891300) : 4194304 :  303004 :   7%",
		"kmalloc(4096100) : 4194304 :   98204 :   2%",
		"kmalloc fail, size2alloc=4300900",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("model:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestKsizeArch(t *testing.T) {
	for _, c := range []struct {
		env     Env
		n, want int
	}{
		{Env{"x86_64", "6.1.192"}, 100, 128},
		{Env{"x86_64", "6.1.192"}, 150, 192},
		{Env{"arm64", "6.1.192"}, 150, 256}, // no kmalloc-192 with 128-byte alignment
		{Env{"arm64", "6.1.192"}, 20, 128},
		{Env{"x86_64", "6.12.117"}, 8193, 16384},
		{Env{"x86_64", "6.12.117"}, 4194304, 4194304},
		{Env{"x86_64", "6.12.117"}, 4194305, 0},
	} {
		if got := Ksize(c.env, c.n); got != c.want {
			t.Errorf("Ksize(%+v, %d) = %d, want %d", c.env, c.n, got, c.want)
		}
	}
}

// The caches follow the quirk table's kmalloc alignment: arm64 loses every
// cache below 128 bytes and kmalloc-192 until 6.5, x86_64 never does.
func TestKmallocCaches(t *testing.T) {
	all := []int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192}
	aligned := []int{128, 256, 512, 1024, 2048, 4096, 8192}
	for _, c := range []struct {
		env  Env
		want []int
	}{
		{Env{"x86_64", "5.4.302"}, all},
		{Env{"x86_64", "6.1.192"}, all},
		{Env{"arm64", "5.4.302"}, aligned},
		{Env{"arm64", "6.1.192"}, aligned},
		{Env{"arm64", "6.4.16"}, aligned},
		{Env{"arm64", "6.5"}, all},
		{Env{"arm64", "6.12.117"}, all},
	} {
		if got := kmallocCaches(c.env); !slices.Equal(got, c.want) {
			t.Errorf("kmallocCaches(%+v) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	want := []string{"hdr", "kmalloc(1) : 8", "kmalloc(2) : 8", "kmalloc fail, size2alloc=3"}
	for _, c := range []struct {
		got  []string
		fail string
	}{
		{[]string{"noise", "hdr", "kmalloc(1) : 8", "x", "kmalloc(2) : 8", "kmalloc fail, size2alloc=3"}, ""},
		{[]string{"hdr", "kmalloc(1) : 8", "kmalloc(2) : 16", "kmalloc fail, size2alloc=3"}, "line 3 differs"},
		{[]string{"hdr", "kmalloc(1) : 8", "kmalloc fail, size2alloc=3"}, "line 3 differs"},
		{[]string{"hdr", "kmalloc(1) : 8", "kmalloc(2) : 8", "kmalloc(3) : 8", "kmalloc fail, size2alloc=3"}, "line 4 differs"},
		{[]string{"hdr", "kmalloc(1) : 8", "kmalloc(2) : 8"}, "model line 4 of 4 missing"},
	} {
		got := Check(want, c.got)
		if (c.fail == "") != (got == "") || !strings.Contains(got, c.fail) {
			t.Errorf("Check(%q) = %q, want %q", c.got, got, c.fail)
		}
	}
}

// The book's slab3_maxsize with its 2nd-edition step: kmalloc(0) is
// ZERO_SIZE_PTR, 21 sizes succeed up to 4096000, 4300800 fails
// (book-examples.md §5.5).
func TestKmallocMax(t *testing.T) {
	lines, err := KmallocMax(Env{Arch: "arm64", Kernel: "6.12.117"}, map[string]int{"stepsz": 204800})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 22 || lines[0] != "kmalloc(      0) = 0x0000000000000010 (ZERO_SIZE_PTR)" ||
		lines[20] != "kmalloc(4096000) = ok" || lines[21] != "kmalloc fail, size2alloc=4300800" {
		t.Errorf("model: %d lines, %q ... %q", len(lines), lines[0], lines[len(lines)-2:])
	}
}
