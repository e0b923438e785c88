package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/book"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// bookSuite loads the catalogue and the specs of modules/.
func bookSuite(t *testing.T) (*book.Catalogue, []*spec.Spec) {
	t.Helper()
	cat, err := book.Load()
	if err != nil {
		t.Fatal(err)
	}
	specs, err := spec.Find("../../modules")
	if err != nil {
		t.Fatal(err)
	}
	return cat, specs
}

// The catalogue names only tests of modules/, and every book test of
// modules/ is named by an example of its chapter: neither can fall behind
// the other.
func TestCatalogueMatchesSuite(t *testing.T) {
	cat, specs := bookSuite(t)
	var tests []book.Test
	for _, s := range specs {
		tests = append(tests, book.Test{Name: s.Name, File: strings.TrimPrefix(s.File, "../../"), Chapter: s.Chapter, Book: slices.Contains(s.Tags, "book")})
	}
	for _, err := range cat.Check(tests) {
		t.Error(err)
	}
}

// The README's book table is what `lkmtest list --markdown` prints for
// modules/.
func TestREADMEBookTable(t *testing.T) {
	cat, specs := bookSuite(t)
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := bookTableIn(string(data))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	want := bookTable(cat, specs, "../../modules")
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(the end)"
		}
		t.Errorf("README.md's book table is not what `lkmtest list --markdown` prints for modules/ and %s: regenerate it with\n  %s\nFirst difference, line %d of the table:\n  README: %s\n  wanted: %s",
			book.FileName, book.RegenerateHint, i+1, line(gl), line(wl))
	}
}

func TestBookTableRows(t *testing.T) {
	cat, specs := bookSuite(t)
	table := bookTable(cat, specs, "../../modules")
	for _, want := range []string{
		"| 8 | `ch8/slab2_buggy` | [slab2-buggy](modules/ch08-slab2-buggy) (`--flavour kasan`), [slab2-fixed](modules/ch08-slab2-fixed) |",
		"| 7 | `ch7/show_kernel_vas` (1E `ch7/show_kernel_seg`) | [kernel-vas](modules/ch07-kernel-vas) (x86_64), ",
		"| 9 | `ch9/poison_test` (1E only) |",
		"| 12 | text: interruptible and killable mutex waits | [mutex-interruptible](modules/ch12-mutex-interruptible) |",
		"[lockdep-abba](modules/ch13-lockdep) (+debug kernel)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the book table has no %q:\n%s", want, table)
		}
	}
	// Every book test of the suite is in the table.
	for _, s := range specs {
		if slices.Contains(s.Tags, "book") && !strings.Contains(table, "["+s.Name+"]") {
			t.Errorf("%s is not in the book table", s.Name)
		}
	}
	if strings.Count(table, "\n| ") < 30 {
		t.Errorf("too few rows:\n%s", table)
	}
}

func TestUpdateBookTable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "README.md")
	table := tableBegin + "\n\n| a |\n\n" + tableEnd + "\n"
	os.WriteFile(file, []byte("# x\n\n"+tableBegin+"\nold\n"+tableEnd+"\n\nafter\n"), 0o640)
	if err := updateBookTable(file, table); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if want := "# x\n\n" + table + "\nafter\n"; string(got) != want {
		t.Errorf("updated:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode())
	}
	if err := updateBookTable(file, table); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(file); string(again) != string(got) {
		t.Errorf("a second update changed it:\n%s", again)
	}
	os.WriteFile(file, []byte("# no table\n"), 0o644)
	if err := updateBookTable(file, table); err == nil || !strings.Contains(err.Error(), "no book table") {
		t.Errorf("no markers: %v", err)
	}
	os.WriteFile(file, []byte(tableBegin+"\n"), 0o644)
	if err := updateBookTable(file, table); err == nil || !strings.Contains(err.Error(), "no end marker") {
		t.Errorf("no end marker: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestListByChapter(t *testing.T) {
	out, stderr, code := cli(t, "list")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"Linux Kernel Programming, 2nd edition (6.1 LTS)",
		"\nChapter 8: Kernel Memory Allocation for Module Authors - Part 1\n",
		"  ch8/slab2_buggy ",
		"      slab2-buggy ", "needs CONFIG_KASAN (--flavour kasan)",
		"(1E: ch7/show_kernel_seg)",
		"no VM test (host-tool): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list has no %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "Chapter 4:"), strings.Index(out, "Chapter 13:"); i < 0 || j < i {
		t.Errorf("chapters out of order:\n%s", out)
	}
	if strings.Contains(out, "ch9/poison_test") || strings.Contains(out, "ch11/latency_tests") || strings.Contains(out, "Tests of the suite that no example names") {
		t.Errorf("the 2nd edition lists a 1st-edition example, or tests no example names:\n%s", out)
	}

	out, _, code = cli(t, "list", "--edition", "1")
	for _, want := range []string{"1st edition (5.4 LTS)", "Chapter 1: Kernel Workspace Setup", "  ch7/show_kernel_seg ", "  ch9/poison_test ",
		"no VM test (hardware): ", "kernel =6.12; needs CONFIG_ARM64_4K_PAGES", "not on 5.4"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("list --edition 1: exit %d, no %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "ch6/list_demo") {
		t.Errorf("the 1st edition lists the 2nd's list_demo:\n%s", out)
	}

	out, _, code = cli(t, "list", "--json")
	var v bookView
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Edition != 2 || len(v.Chapters) != 13 {
		t.Fatalf("list --json: exit %d, %v\n%s", code, err, out)
	}
	var slab2 *viewExample
	for i, e := range v.Chapters[7].Examples {
		if e.Example == "ch8/slab2_buggy" {
			slab2 = &v.Chapters[7].Examples[i]
		}
	}
	if slab2 == nil || len(slab2.Tests) != 2 || slab2.Tests[0].Name != "slab2-buggy" || !slices.Equal(slab2.Tests[0].Flavours, []string{"kasan"}) ||
		slab2.Tests[0].File == "" || !slab2.Tests[0].OnEditionKernel || slab2.Checks == "" {
		t.Errorf("list --json, ch8/slab2_buggy: %+v", slab2)
	}

	out, _, code = cli(t, "list", "--markdown")
	if code != 0 || !strings.HasPrefix(out, tableBegin) || !strings.HasSuffix(out, tableEnd+"\n") {
		t.Errorf("list --markdown: exit %d\n%s", code, out)
	}
	// A suite of one's own, with none of the book's tests, is listed flat.
	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "test.yaml"), []byte("name: mine\nsteps:\n  - run: [true]\n"), 0o644)
	if out, stderr, code := cli(t, "list", "--suite", mine); code != 0 || !strings.HasPrefix(out, "CH  TEST") || !strings.Contains(out, "mine") {
		t.Errorf("list --suite (no book test): exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := cli(t, "list", "--edition", "3"); code != 2 || !strings.Contains(stderr, "want 1 or 2") {
		t.Errorf("list --edition 3: exit %d, %s", code, stderr)
	}
}
