package book

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileName is the catalogue's file, in this package's directory; errors
// are placed in it.
const FileName = "harness/book/catalogue.yaml"

//go:embed catalogue.yaml
var catalogueYAML []byte

// Catalogue is the book's editions and examples.
type Catalogue struct {
	Editions []Edition
	Examples []*Example
}

// Edition is one edition of the book.
type Edition struct {
	// Number is 1 or 2.
	Number int `yaml:"edition"`
	// Kernel is the LTS series the edition is written for ("6.1").
	Kernel string `yaml:"kernel"`
	// Repository is the author's repository of its code (owner/name on
	// GitHub).
	Repository string `yaml:"repository"`
	// Chapters are in the book's order.
	Chapters []Chapter `yaml:"chapters"`
}

// Chapter is a chapter of an edition.
type Chapter struct {
	Number int    `yaml:"n"`
	Title  string `yaml:"title"`
}

// Kind is why an example has no VM test.
type Kind string

// The kinds of examples without a VM test.
const (
	// Hardware: it needs real hardware (measurements that mean nothing
	// under emulation, devices QEMU does not model).
	Hardware Kind = "hardware"
	// HostSetup: it prepares the reader's host (packages).
	HostSetup Kind = "host-setup"
	// KernelBuild: a kernel configuration or build walkthrough; lkmtest
	// configures and builds its kernels itself.
	KernelBuild Kind = "kernel-build"
	// HostTool: a user-space script or tool the book runs on the host.
	HostTool Kind = "host-tool"
	// GuestTools: it needs programs lkmtest's u-root guest does not have
	// (systemd, gdb, perf, BCC).
	GuestTools Kind = "guest-tools"
	// Covered: what it shows is checked elsewhere (See) or by lkmtest
	// itself.
	Covered Kind = "covered"
	// Todo: it could run in a VM; it has no test yet.
	Todo Kind = "todo"
)

// Kinds lists the kinds, in the order listings count them.
var Kinds = []Kind{Hardware, HostSetup, KernelBuild, HostTool, GuestTools, Covered, Todo}

// Example is one example of the book: a folder or a script of the
// author's repositories, or something a chapter's text shows with no code
// there.
type Example struct {
	// E2 and E1 are its paths in the 2nd and 1st edition's repositories
	// ("ch7/show_kernel_vas", "ch7/show_kernel_seg"), or "chN" for the
	// chapter's text; "" when the edition does not have it.
	E2 string `yaml:"2e"`
	E1 string `yaml:"1e"`
	// What it is, in a few words.
	What string `yaml:"what"`
	// Tests reproduce it: names of tests of the suite.
	Tests []string `yaml:"tests"`
	// Checks says, in a few words, what those tests assert (the README's
	// book table).
	Checks string `yaml:"checks"`
	// NoTest says why it has no VM test, and Why in a sentence; See names
	// tests that check what it shows.
	NoTest Kind     `yaml:"no_test"`
	Why    string   `yaml:"why"`
	See    []string `yaml:"see"`

	// Line is its line in the catalogue; lines holds each key's.
	Line  int            `yaml:"-"`
	lines map[string]int `yaml:"-"`
}

// Path is the example's path in edition ed ("" when ed has it not).
func (e *Example) Path(ed int) string {
	if ed == 1 {
		return e.E1
	}
	return e.E2
}

var (
	chapterPath = regexp.MustCompile(`^(?:solutions_to_assgn/)?ch([0-9]+)(?:/[^/].*)?$`)
	testName    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
)

// Chapter is the chapter of the example in edition ed (0 when ed has it
// not), from its path.
func (e *Example) Chapter(ed int) int {
	m := chapterPath.FindStringSubmatch(e.Path(ed))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// IsText says whether the example is the chapter's text in edition ed (a
// path of "chN" only), not code of the repository.
func (e *Example) IsText(ed int) bool {
	p := e.Path(ed)
	return p != "" && !strings.Contains(p, "/")
}

// Name is how the example is shown for edition ed: its path, or
// "chN (text)".
func (e *Example) Name(ed int) string {
	if e.IsText(ed) {
		return e.Path(ed) + " (text)"
	}
	return e.Path(ed)
}

// KeyLine is the line of the example's key (its first line when it has
// not that key).
func (e *Example) KeyLine(key string) int {
	if l, ok := e.lines[key]; ok {
		return l
	}
	return e.Line
}

// Edition returns edition n.
func (c *Catalogue) Edition(n int) (Edition, bool) {
	for _, ed := range c.Editions {
		if ed.Number == n {
			return ed, true
		}
	}
	return Edition{}, false
}

// In returns the examples edition ed has, in the catalogue's order.
func (c *Catalogue) In(ed int) []*Example {
	var out []*Example
	for _, e := range c.Examples {
		if e.Path(ed) != "" {
			out = append(out, e)
		}
	}
	return out
}

// MainChapter is the example's chapter in the edition that has it, the
// 2nd when both do (the suite's specs number chapters as the 2nd edition).
func (e *Example) MainChapter() int {
	if e.E2 != "" {
		return e.Chapter(2)
	}
	return e.Chapter(1)
}

// Error is a problem in the catalogue, at a line of it.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", FileName, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", FileName, e.Msg)
}

// Load returns the embedded catalogue, checked (see Parse).
func Load() (*Catalogue, error) { return Parse(catalogueYAML) }

// exampleKeys are the keys of an example, in the order they are written.
var exampleKeys = []string{"2e", "1e", "what", "tests", "checks", "no_test", "why", "see"}

// Parse decodes and checks a catalogue; the error joins every problem,
// each an *Error at its line.
func Parse(data []byte) (*Catalogue, error) {
	var f struct {
		Editions []Edition   `yaml:"editions"`
		Examples []yaml.Node `yaml:"examples"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	c := &Catalogue{Editions: f.Editions}
	var errs []error
	for i := range f.Examples {
		e, err := decodeExample(&f.Examples[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Examples = append(c.Examples, e)
	}
	errs = append(errs, c.check()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func decodeExample(n *yaml.Node) (*Example, error) {
	if n.Kind != yaml.MappingNode {
		return nil, &Error{Line: n.Line, Msg: "an example is a mapping (2e:, 1e:, what:, ...)"}
	}
	e := &Example{Line: n.Line, lines: map[string]int{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(exampleKeys, k.Value) {
			return nil, &Error{Line: k.Line, Msg: fmt.Sprintf("unknown key %q (known: %s)", k.Value, strings.Join(exampleKeys, ", "))}
		}
		if _, dup := e.lines[k.Value]; dup {
			return nil, &Error{Line: k.Line, Msg: fmt.Sprintf("key %q twice", k.Value)}
		}
		e.lines[k.Value] = k.Line
	}
	if err := n.Decode(e); err != nil {
		return nil, &Error{Line: n.Line, Msg: err.Error()}
	}
	return e, nil
}

// check finds what is wrong with the catalogue on its own.
func (c *Catalogue) check() []error {
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, &Error{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	chapters := map[int]map[int]bool{}
	for _, ed := range c.Editions {
		if ed.Number != 1 && ed.Number != 2 {
			bad(0, "edition %d: want 1 or 2", ed.Number)
		}
		if chapters[ed.Number] != nil {
			bad(0, "edition %d twice", ed.Number)
		}
		chapters[ed.Number] = map[int]bool{}
		for _, ch := range ed.Chapters {
			if ch.Number <= 0 || ch.Title == "" || chapters[ed.Number][ch.Number] {
				bad(0, "edition %d: chapter %d: want a number, once, and a title", ed.Number, ch.Number)
			}
			chapters[ed.Number][ch.Number] = true
		}
	}
	for _, n := range []int{1, 2} {
		if chapters[n] == nil {
			bad(0, "edition %d is missing", n)
		}
	}
	seen := map[string]int{}
	for _, e := range c.Examples {
		if e.E2 == "" && e.E1 == "" {
			bad(e.Line, "an example needs its path in an edition: 2e:, 1e: or both")
		}
		for _, ed := range []int{2, 1} {
			p, key := e.Path(ed), fmt.Sprintf("%de", ed)
			if p == "" {
				continue
			}
			n := e.Chapter(ed)
			switch {
			case n == 0:
				bad(e.KeyLine(key), "%s: %q: want a path of the repository starting with chN/ (or solutions_to_assgn/chN/), or chN for the chapter's text", key, p)
				continue
			case !chapters[ed][n]:
				bad(e.KeyLine(key), "%s: %q: edition %d has no chapter %d", key, p, ed, n)
			}
			id := fmt.Sprintf("%d:%s", ed, p)
			if e.IsText(ed) {
				id += ":" + e.What // several topics of one chapter's text
			}
			if l, dup := seen[id]; dup {
				bad(e.KeyLine(key), "%s: %q is also the example at line %d", key, p, l)
			}
			seen[id] = e.Line
		}
		if strings.TrimSpace(e.What) == "" {
			bad(e.Line, "what: say what the example is, in a few words")
		}
		for _, t := range append(slices.Clone(e.Tests), e.See...) {
			if !testName.MatchString(t) {
				bad(e.Line, "%q is not a test name", t)
			}
		}
		switch {
		case len(e.Tests) > 0 && e.NoTest != "":
			bad(e.KeyLine("no_test"), "give tests or no_test, not both")
		case len(e.Tests) > 0:
			if strings.TrimSpace(e.Checks) == "" {
				bad(e.KeyLine("tests"), "checks: say what the tests assert, in a few words (the README's book table)")
			}
			if e.Why != "" || len(e.See) > 0 {
				bad(e.KeyLine("tests"), "why and see belong to an example with no_test")
			}
			if dup := duplicate(e.Tests); dup != "" {
				bad(e.KeyLine("tests"), "test %q twice", dup)
			}
		case e.NoTest != "":
			if !slices.Contains(Kinds, e.NoTest) {
				var names []string
				for _, k := range Kinds {
					names = append(names, string(k))
				}
				bad(e.KeyLine("no_test"), "no_test %q: want one of %s", e.NoTest, strings.Join(names, ", "))
			}
			if strings.TrimSpace(e.Why) == "" {
				bad(e.KeyLine("no_test"), "why: say why there is no VM test, in a sentence")
			}
			if e.Checks != "" {
				bad(e.KeyLine("checks"), "checks belongs to an example with tests")
			}
		default:
			bad(e.Line, "give the tests that reproduce the example (tests: and checks:), or why it has none (no_test: and why:)")
		}
	}
	return errs
}

func duplicate(list []string) string {
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}
