package book

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2} {
		ed, ok := c.Edition(n)
		if !ok || len(ed.Chapters) != 13 || ed.Repository == "" || ed.Kernel == "" {
			t.Errorf("edition %d: %+v", n, ed)
		}
	}
	if ed, _ := c.Edition(2); ed.Kernel != "6.1" || ed.Chapters[7].Title != "Kernel Memory Allocation for Module Authors - Part 1" {
		t.Errorf("2nd edition: %+v", ed)
	}
	find := func(ed int, path string) *Example {
		for _, e := range c.In(ed) {
			if e.Path(ed) == path {
				return e
			}
		}
		t.Fatalf("edition %d has no example %s", ed, path)
		return nil
	}
	if e := find(2, "ch7/show_kernel_vas"); e.E1 != "ch7/show_kernel_seg" || e.Chapter(1) != 7 || len(e.Tests) == 0 {
		t.Errorf("show_kernel_vas: %+v", e)
	}
	if e := find(1, "ch9/poison_test"); e.E2 != "" || e.MainChapter() != 9 || e.Chapter(2) != 0 {
		t.Errorf("poison_test (1st edition only): %+v", e)
	}
	if e := find(2, "solutions_to_assgn/ch13/miscdrv_rdwr_refcount"); e.Chapter(2) != 13 {
		t.Errorf("an exercise's chapter: %d", e.Chapter(2))
	}
	if e := find(2, "ch12"); !e.IsText(2) || e.Name(2) != "ch12 (text)" {
		t.Errorf("a chapter's text: %+v, %q", e, e.Name(2))
	}
	for _, e := range c.Examples {
		if e.NoTest != "" && e.Line == 0 {
			t.Errorf("%s: no line", e.Name(2))
		}
	}
}

// A catalogue of two editions of one chapter each, for the error tests.
const head = `editions:
  - {edition: 1, kernel: "5.4", repository: a/b, chapters: [{n: 4, title: Four}]}
  - {edition: 2, kernel: "6.1", repository: a/c, chapters: [{n: 4, title: Four}, {n: 5, title: Five}]}
examples:
`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, examples string
		want           []string // each a "catalogue.yaml:LINE: message" part
	}{
		{"unknown key", "  - 2e: ch4/a\n    what: a\n    tests: [a]\n    cheks: x\n", []string{":8: unknown key \"cheks\" (known: 2e, 1e, what,"}},
		{"no path", "  - what: a\n    tests: [a]\n    checks: x\n", []string{":5: an example needs its path in an edition"}},
		{"bad path", "  - 2e: four/a\n    what: a\n    tests: [a]\n    checks: x\n", []string{":5: 2e: \"four/a\": want a path of the repository starting with chN/"}},
		{"no such chapter", "  - 1e: ch5/a\n    what: a\n    tests: [a]\n    checks: x\n", []string{":5: 1e: \"ch5/a\": edition 1 has no chapter 5"}},
		{"no what", "  - 2e: ch4/a\n    tests: [a]\n    checks: x\n", []string{":5: what: say what the example is"}},
		{"neither", "  - 2e: ch4/a\n    what: a\n", []string{":5: give the tests that reproduce the example"}},
		{"both", "  - 2e: ch4/a\n    what: a\n    tests: [a]\n    checks: x\n    no_test: todo\n    why: w\n", []string{":9: give tests or no_test, not both"}},
		{"no checks", "  - 2e: ch4/a\n    what: a\n    tests: [a]\n", []string{":7: checks: say what the tests assert"}},
		{"unknown kind", "  - 2e: ch4/a\n    what: a\n    no_test: later\n    why: w\n", []string{":7: no_test \"later\": want one of hardware, host-setup, kernel-build, host-tool, guest-tools, covered, todo"}},
		{"no why", "  - 2e: ch4/a\n    what: a\n    no_test: todo\n", []string{":7: why: say why there is no VM test"}},
		{"bad test name", "  - 2e: ch4/a\n    what: a\n    tests: [A B]\n    checks: x\n", []string{":5: \"A B\" is not a test name"}},
		{"twice", "  - 2e: ch4/a\n    what: a\n    tests: [a]\n    checks: x\n  - 2e: ch4/a\n    what: b\n    no_test: todo\n    why: w\n",
			[]string{":9: 2e: \"ch4/a\" is also the example at line 5"}},
		{"every error at once", "  - 2e: ch4/a\n  - 1e: ch9/b\n    what: b\n    tests: [b]\n    checks: x\n",
			[]string{":5: what:", ":5: give the tests", ":6: 1e: \"ch9/b\": edition 1 has no chapter 9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head + tc.examples))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), FileName+w) {
					t.Errorf("error %q does not say %q", err, FileName+w)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%v is no *Error", err)
			}
		})
	}
	if _, err := Parse([]byte(head + "  - 2e: ch4/a\n    what: a\n    tests: [a]\n    checks: x\n  - 2e: ch4\n    what: one topic\n    tests: [b]\n    checks: y\n  - 2e: ch4\n    what: another\n    no_test: todo\n    why: w\n")); err != nil {
		t.Errorf("a good catalogue (two topics of one chapter's text): %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(head, "examples:", "exemples:", 1))); err == nil || !strings.Contains(err.Error(), "exemples") {
		t.Errorf("an unknown top-level key: %v", err)
	}
}

func TestCheck(t *testing.T) {
	c, err := Parse([]byte(head + `  - 2e: ch4/a
    1e: ch4/a
    what: a
    tests: [a, gone]
    checks: x
  - 2e: ch5/b
    what: b
    tests: [b, untagged]
    checks: y
  - 2e: ch5/c
    what: c
    no_test: covered
    why: w
    see: [a, vanished]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []Test{
		{Name: "a", File: "m/a/test.yaml", Chapter: 4, Book: true},
		{Name: "b", File: "m/b/test.yaml", Chapter: 4, Book: true},
		{Name: "untagged", File: "m/u/test.yaml", Chapter: 5},
		{Name: "orphan", File: "m/o/test.yaml", Chapter: 6, Book: true},
		{Name: "mine", File: "m/mine/test.yaml"},
	}
	var got []string
	for _, e := range c.Check(tests) {
		got = append(got, e.Error())
	}
	want := []string{
		FileName + `:8: example ch4/a: no test "gone" in the suite`,
		FileName + `:12: example ch5/b: test "untagged" (m/u/test.yaml) is not tagged book`,
		FileName + `:18: example ch5/c: no test "vanished" in the suite`,
		`m/b/test.yaml: test "b" is chapter 4, but the examples that name it are in chapters ch5/b 5`,
		`m/o/test.yaml: test "orphan" is tagged book but no example of ` + FileName + ` names it`,
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("no error %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	if errs := c.Check([]Test{{Name: "a", Chapter: 4, Book: true}, {Name: "gone", Chapter: 4, Book: true},
		{Name: "b", Chapter: 5, Book: true}, {Name: "untagged", Chapter: 5, Book: true}, {Name: "vanished"}}); len(errs) != 0 {
		t.Errorf("a matching suite: %v", fmt.Sprint(errs))
	}
}
