package book

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Test is what Check needs of a test of the suite.
type Test struct {
	// Name and File are the spec's name and path.
	Name, File string
	// Chapter is the spec's chapter (0: none).
	Chapter int
	// Book: the spec is tagged "book".
	Book bool
}

// RegenerateHint is how to bring the README's book table up to date.
const RegenerateHint = "make build && ./bin/lkmtest list --update README.md"

// Check compares the catalogue with a suite's tests and returns every
// mismatch: a test an example names (in tests or see) that the suite has
// not; a test tagged "book" that no example names, or one an example names
// that is not tagged "book"; a test whose chapter is none of its examples'.
func (c *Catalogue) Check(tests []Test) []error {
	byName := map[string]Test{}
	for _, t := range tests {
		byName[t.Name] = t
	}
	var errs []error
	named := map[string][]*Example{}
	for _, e := range c.Examples {
		id := e.Name(2)
		if e.E2 == "" {
			id = "1e: " + e.Name(1)
		}
		for _, n := range e.Tests {
			named[n] = append(named[n], e)
			t, ok := byName[n]
			switch {
			case !ok:
				errs = append(errs, &Error{Line: e.KeyLine("tests"), Msg: fmt.Sprintf("example %s: no test %q in the suite (renamed or removed? fix its tests:)", id, n)})
			case !t.Book:
				errs = append(errs, &Error{Line: e.KeyLine("tests"), Msg: fmt.Sprintf("example %s: test %q (%s) is not tagged book: add book to its tags", id, n, t.File)})
			}
		}
		for _, n := range e.See {
			if _, ok := byName[n]; !ok {
				errs = append(errs, &Error{Line: e.KeyLine("see"), Msg: fmt.Sprintf("example %s: no test %q in the suite (renamed or removed? fix its see:)", id, n)})
			}
		}
	}
	sorted := slices.Clone(tests)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, t := range sorted {
		exs := named[t.Name]
		if len(exs) == 0 {
			if t.Book {
				errs = append(errs, fmt.Errorf("%s: test %q is tagged book but no example of %s names it: add it to the tests: of the example it reproduces (or an example of its own), say in checks: what it asserts, then run %s", t.File, t.Name, FileName, RegenerateHint))
			}
			continue
		}
		if t.Chapter == 0 {
			continue
		}
		var chapters []string
		ok := false
		for _, e := range exs {
			for _, ed := range []int{2, 1} {
				if n := e.Chapter(ed); n > 0 {
					ok = ok || n == t.Chapter
					chapters = append(chapters, fmt.Sprintf("%s %d", e.Name(ed), n))
				}
			}
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: test %q is chapter %d, but the examples that name it are in chapters %s: fix its chapter: or the catalogue (%s)", t.File, t.Name, t.Chapter, strings.Join(chapters, ", "), FileName))
		}
	}
	return errs
}
