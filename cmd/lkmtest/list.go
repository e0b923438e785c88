package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/book"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/spec"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

func newListCmd() *cobra.Command {
	var suite, update string
	var jsonOut, flat, markdown bool
	var edition int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the book's examples by chapter, with their tests and where they apply",
		Long: `list shows the chapters of an edition of Linux Kernel Programming (--edition 2,
the default: 6.1 LTS; --edition 1: 5.4 LTS), each example of the author's
repository by its path there, and either the suite's tests that reproduce it,
with where they apply (arch, kernel range, needs), or why it has no VM test.
The catalogue of examples is harness/book/catalogue.yaml.

--flat lists the suite's tests alone, by chapter, as does list of a suite
(--suite) that has none of the book's tests. --markdown prints the README's
book table; --update FILE rewrites that table in FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if suite == "" {
				suite = defaultSuite()
			}
			switch {
			case edition != 1 && edition != 2:
				return fmt.Errorf("--edition %d: want 1 or 2", edition)
			case flat && (markdown || update != ""):
				return errors.New("--flat lists tests, --markdown and --update the book table: give one")
			case markdown && jsonOut:
				return errors.New("--markdown and --json: give one")
			}
			specs, err := spec.Find(suite)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			cat, err := book.Load()
			if err != nil {
				return err
			}
			if flat || (!markdown && update == "" && !hasBookTest(cat, specs)) {
				// A suite with none of the book's tests is the user's own:
				// its tests are what to list.
				return listFlat(out, specs, jsonOut)
			}
			switch {
			case update != "":
				return updateBookTable(update, bookTable(cat, specs, suite))
			case markdown:
				_, err := io.WriteString(out, bookTable(cat, specs, suite))
				return err
			}
			v := newBookView(cat, specs, edition)
			if jsonOut {
				b, _ := json.MarshalIndent(v, "", "  ")
				fmt.Fprintln(out, string(b))
				return nil
			}
			printBookView(out, v)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&suite, "suite", "", "directory searched for test.yaml files (default: ./modules)")
	f.IntVar(&edition, "edition", 2, "the book's edition: 2 (6.1 LTS) or 1 (5.4 LTS)")
	f.BoolVar(&jsonOut, "json", false, "print the same as JSON")
	f.BoolVar(&flat, "flat", false, "list the suite's tests alone, by chapter (one line each)")
	f.BoolVar(&markdown, "markdown", false, "print the README's book table (both editions)")
	f.StringVar(&update, "update", "", "rewrite the book table between its markers in this file (README.md)")
	return cmd
}

// listFlat prints the suite's tests by chapter, one line each, or as JSON.
func listFlat(out io.Writer, specs []*spec.Spec, jsonOut bool) error {
	specs = slices.Clone(specs)
	sort.SliceStable(specs, func(i, j int) bool {
		if specs[i].Chapter != specs[j].Chapter {
			return specs[i].Chapter < specs[j].Chapter
		}
		return specs[i].Name < specs[j].Name
	})
	if jsonOut {
		type entry struct {
			Name        string   `json:"name"`
			File        string   `json:"file"`
			Chapter     int      `json:"chapter,omitempty"`
			Tags        []string `json:"tags,omitempty"`
			Arch        []string `json:"arch,omitempty"`
			Kernel      string   `json:"kernel,omitempty"`
			Config      []string `json:"config,omitempty"`
			Description string   `json:"description,omitempty"`
		}
		var entries []entry
		for _, s := range specs {
			entries = append(entries, entry{s.Name, s.File, s.Chapter, s.Tags, s.Requires.Arch, s.Requires.Kernel, s.Requires.Config, strings.TrimSpace(s.Description)})
		}
		b, _ := json.MarshalIndent(entries, "", "  ")
		fmt.Fprintln(out, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CH\tTEST\tARCH\tKERNEL\tNEEDS\tDESCRIPTION")
	for _, s := range specs {
		ch := "-"
		if s.Chapter > 0 {
			ch = fmt.Sprint(s.Chapter)
		}
		desc := strings.Join(strings.Fields(s.Description), " ")
		if len(desc) > 60 {
			desc = desc[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ch, s.Name, orAll(strings.Join(s.Requires.Arch, ",")),
			orAll(s.Requires.Kernel), orDash(strings.Join(s.Requires.Config, ",")), desc)
	}
	return tw.Flush()
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bookView is an edition's chapters with their examples and tests: what
// `lkmtest list` prints, and its JSON.
type bookView struct {
	Edition    int           `json:"edition"`
	Kernel     string        `json:"kernel"`
	Repository string        `json:"repository"`
	Chapters   []viewChapter `json:"chapters"`
	// Unnamed are the suite's tests that no example names.
	Unnamed []string `json:"unnamed,omitempty"`
}

type viewChapter struct {
	Chapter  int           `json:"chapter"`
	Title    string        `json:"title"`
	Examples []viewExample `json:"examples"`
}

type viewExample struct {
	// Example is its path in this edition's repository ("chN" for the
	// chapter's text, then Text is true); E2 and E1 its paths in each.
	Example string `json:"example"`
	Text    bool   `json:"text,omitempty"`
	E2      string `json:"2e,omitempty"`
	E1      string `json:"1e,omitempty"`
	What    string `json:"what"`
	// Tests reproduce it and Checks says what they assert; or NoTest and
	// Why say why there is no VM test, See names tests that cover it.
	Tests  []viewTest `json:"tests,omitempty"`
	Checks string     `json:"checks,omitempty"`
	NoTest book.Kind  `json:"no_test,omitempty"`
	Why    string     `json:"why,omitempty"`
	See    []string   `json:"see,omitempty"`
}

// viewTest is a test of an example and where it applies.
type viewTest struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
	// Missing: the suite has no such test.
	Missing bool     `json:"missing,omitempty"`
	Arch    []string `json:"arch,omitempty"`
	Kernel  string   `json:"kernel,omitempty"`
	Config  []string `json:"config,omitempty"`
	// Flavours are the --flavour kernels that give Config's options that
	// lkmtest's default kernels lack.
	Flavours []string `json:"flavours,omitempty"`
	// Variant is the kernel of its own that boot.config asks for
	// ("debug" for lkmtest:debug).
	Variant string `json:"kernel_variant,omitempty"`
	CPUs    int    `json:"host_cpus,omitempty"`
	Memory  int    `json:"host_memory_mib,omitempty"`
	// OnEditionKernel: the test's kernel range admits the edition's LTS.
	OnEditionKernel bool `json:"on_edition_kernel"`
}

func newBookView(cat *book.Catalogue, specs []*spec.Spec, edition int) bookView {
	ed, _ := cat.Edition(edition)
	bySpec := map[string]*spec.Spec{}
	for _, s := range specs {
		bySpec[s.Name] = s
	}
	v := bookView{Edition: ed.Number, Kernel: ed.Kernel, Repository: ed.Repository}
	for _, ch := range ed.Chapters {
		vc := viewChapter{Chapter: ch.Number, Title: ch.Title, Examples: []viewExample{}}
		for _, e := range cat.In(edition) {
			if e.Chapter(edition) != ch.Number {
				continue
			}
			ve := viewExample{Example: e.Path(edition), Text: e.IsText(edition), E2: e.E2, E1: e.E1, What: e.What,
				Checks: e.Checks, NoTest: e.NoTest, Why: e.Why, See: e.See}
			for _, n := range e.Tests {
				ve.Tests = append(ve.Tests, newViewTest(n, bySpec[n], ed.Kernel))
			}
			vc.Examples = append(vc.Examples, ve)
		}
		v.Chapters = append(v.Chapters, vc)
	}
	v.Unnamed = unnamedTests(cat, specs)
	return v
}

// hasBookTest says whether the suite has a test an example names.
func hasBookTest(cat *book.Catalogue, specs []*spec.Spec) bool {
	for _, e := range cat.Examples {
		for _, s := range specs {
			if slices.Contains(e.Tests, s.Name) {
				return true
			}
		}
	}
	return false
}

// unnamedTests are the suite's tests that no example names, sorted.
func unnamedTests(cat *book.Catalogue, specs []*spec.Spec) []string {
	named := map[string]bool{}
	for _, e := range cat.Examples {
		for _, n := range e.Tests {
			named[n] = true
		}
	}
	var out []string
	for _, s := range specs {
		if !named[s.Name] {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

func newViewTest(name string, s *spec.Spec, edKernel string) viewTest {
	if s == nil {
		return viewTest{Name: name, Missing: true}
	}
	r := s.Requires
	t := viewTest{Name: name, File: s.File, Arch: r.Arch, Kernel: r.Kernel, Config: r.Config, CPUs: r.CPUs, Memory: r.Memory}
	if s.Boot.Config != "" {
		t.Variant = strings.TrimSuffix(filepath.Base(strings.TrimPrefix(s.Boot.Config, kernelconfigs.Prefix)), ".config")
	} else {
		t.Flavours = flavoursFor(r.Config)
	}
	kernelOnly := spec.Requires{Kernel: r.Kernel}
	t.OnEditionKernel = kernelOnly.Unmet(spec.Host{Kernel: edKernel}) == ""
	return t
}

// flavoursFor returns the flavours whose fragments set options of needs
// (CONFIG_X, CONFIG_X=value) that lkmtest's base fragment does not.
func flavoursFor(needs []string) []string {
	base := fragment("base.config")
	var out []string
	for _, need := range needs {
		name, want, hasValue := strings.Cut(need, "=")
		holds := func(c *kconfig.Config) bool {
			got := c.Get(name)
			if hasValue {
				return got == want
			}
			return got == "y" || got == "m"
		}
		if holds(base) {
			continue
		}
		for _, f := range kernelconfigs.Flavours {
			if holds(fragment(f.Name+".config")) && !slices.Contains(out, f.Name) {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// fragment parses one of lkmtest's kernel config fragments (empty when it
// cannot be read).
func fragment(name string) *kconfig.Config {
	text, err := kernelconfigs.Read(name)
	if err == nil {
		if c, err := kconfig.Parse(name, text); err == nil {
			return c
		}
	}
	c, _ := kconfig.Parse(name, "")
	return c
}

// where says in words where a test applies, for the terminal: its arch,
// kernel range, kernel variant, needs and host requirements ("everywhere"
// when it has none).
func (t viewTest) where(edKernel string) string {
	if t.Missing {
		return "not in this suite"
	}
	var parts []string
	if len(t.Arch) > 0 {
		parts = append(parts, strings.Join(t.Arch, ", "))
	}
	if t.Kernel != "" {
		parts = append(parts, "kernel "+t.Kernel)
	}
	if t.Variant != "" {
		parts = append(parts, "its +"+t.Variant+" kernel")
	}
	if len(t.Config) > 0 {
		needs := "needs " + strings.Join(t.Config, ", ")
		for _, f := range t.Flavours {
			needs += " (--flavour " + f + ")"
		}
		parts = append(parts, needs)
	}
	if t.CPUs > 0 {
		parts = append(parts, fmt.Sprintf("%d host CPUs", t.CPUs))
	}
	if t.Memory > 0 {
		parts = append(parts, fmt.Sprintf("%d MiB of host memory", t.Memory))
	}
	if !t.OnEditionKernel {
		parts = append(parts, "not on "+edKernel)
	}
	if len(parts) == 0 {
		return "everywhere"
	}
	return strings.Join(parts, "; ")
}

// editionName is "1st" or "2nd".
func editionName(n int) string {
	if n == 1 {
		return "1st"
	}
	return "2nd"
}

func printBookView(w io.Writer, v bookView) {
	total, tested := 0, 0
	pathWidth, testWidth := 0, 0
	for _, ch := range v.Chapters {
		for _, e := range ch.Examples {
			total++
			if len(e.Tests) > 0 {
				tested++
			}
			pathWidth = max(pathWidth, len(exampleLabel(e)))
			for _, t := range e.Tests {
				testWidth = max(testWidth, len(t.Name))
			}
		}
	}
	pathWidth = min(pathWidth, 36)
	other := 3 - v.Edition
	fmt.Fprintf(w, "Linux Kernel Programming, %s edition (%s LTS), github.com/%s\n", editionName(v.Edition), v.Kernel, v.Repository)
	fmt.Fprintf(w, "%d examples: %d with a VM test, %d without (lkmtest list --edition %d: the %s edition)\n",
		total, tested, total-tested, other, editionName(other))
	for _, ch := range v.Chapters {
		fmt.Fprintf(w, "\nChapter %d: %s\n", ch.Chapter, ch.Title)
		if len(ch.Examples) == 0 {
			fmt.Fprintln(w, "  (no examples in the repository)")
		}
		for _, e := range ch.Examples {
			what := e.What
			if p := otherPath(e, v.Edition); p != "" && !e.Text {
				what += fmt.Sprintf(" (%dE: %s)", other, p)
			}
			fmt.Fprintf(w, "  %-*s  %s\n", pathWidth, exampleLabel(e), what)
			for _, t := range e.Tests {
				fmt.Fprintf(w, "      %-*s  %s\n", testWidth, t.Name, t.where(v.Kernel))
			}
			if e.NoTest != "" {
				line := fmt.Sprintf("no VM test (%s): %s", e.NoTest, e.Why)
				if e.NoTest == book.Todo {
					line = "no VM test yet: " + e.Why
				}
				if len(e.See) > 0 {
					line += " (see " + strings.Join(e.See, ", ") + ")"
				}
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	if len(v.Unnamed) > 0 {
		fmt.Fprintf(w, "\nTests of the suite that no example names: %s\n", strings.Join(v.Unnamed, ", "))
	}
}

// exampleLabel is how an example is named in a listing.
func exampleLabel(e viewExample) string {
	if e.Text {
		return e.Example + " (text)"
	}
	return e.Example
}

// otherPath is the example's path in the other edition when it differs
// from this one's ("" when it is the same or absent).
func otherPath(e viewExample, edition int) string {
	this, other := e.E2, e.E1
	if edition == 1 {
		this, other = e.E1, e.E2
	}
	if other == this {
		return ""
	}
	return other
}

// The book table's markers in the README.
const (
	tableBegin = "<!-- book table: generated by `lkmtest list --markdown` from harness/book/catalogue.yaml and the specs; regenerate it with `" + book.RegenerateHint + "` -->"
	tableEnd   = "<!-- end of the book table -->"
)

// bookTable is the README's book table, markers included: a row per
// example with tests, by chapter (the 2nd edition's, or the 1st's for an
// example only it has), then a line counting the examples without a VM
// test. Test names link to their directories, relative to the suite's
// parent (where the README is).
func bookTable(cat *book.Catalogue, specs []*spec.Spec, suite string) string {
	bySpec := map[string]*spec.Spec{}
	for _, s := range specs {
		bySpec[s.Name] = s
	}
	var rows []*book.Example
	var without []*book.Example
	for _, e := range cat.Examples {
		if len(e.Tests) > 0 {
			rows = append(rows, e)
		} else {
			without = append(without, e)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].MainChapter() < rows[j].MainChapter() })
	var b strings.Builder
	b.WriteString(tableBegin + "\n\n")
	b.WriteString("| ch | example | tests (where, if not everywhere) | what must hold |\n|---|---|---|---|\n")
	for _, e := range rows {
		var tests []string
		for _, n := range e.Tests {
			tests = append(tests, tableTest(n, bySpec[n], suite))
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", e.MainChapter(), tableExample(e), strings.Join(tests, ", "), cell(e.Checks))
	}
	counts := map[book.Kind]int{}
	for _, e := range without {
		counts[e.NoTest]++
	}
	var kinds []string
	for _, k := range book.Kinds {
		if counts[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	fmt.Fprintf(&b, "\n%d of the %d examples of both editions have a test above. The other %d (%s) cannot or need not run in a VM, or have no test yet: `lkmtest list` says why for each (`--edition 1` for the 1st edition).\n",
		len(rows), len(cat.Examples), len(without), strings.Join(kinds, ", "))
	b.WriteString("\n" + tableEnd + "\n")
	return b.String()
}

// tableExample names an example in the book table: its 2nd edition path,
// with the 1st edition's when it differs, or a chapter-text topic.
func tableExample(e *book.Example) string {
	switch {
	case e.IsText(2) || (e.E2 == "" && e.IsText(1)):
		return "text: " + cell(e.What)
	case e.E2 == "":
		return "`" + e.E1 + "` (1E only)"
	case e.E1 == "" || e.E1 == e.E2:
		return "`" + e.E2 + "`"
	}
	return fmt.Sprintf("`%s` (1E `%s`)", e.E2, e.E1)
}

// tableTest is a test in the book table: its name, linked to its
// directory, and where it applies when not everywhere (arch, kernel range,
// kernel variant or flavour).
func tableTest(name string, s *spec.Spec, suite string) string {
	if s == nil {
		return name + " (missing)"
	}
	label := name
	if rel, err := filepath.Rel(suite, s.Dir); err == nil {
		label = fmt.Sprintf("[%s](%s)", name, filepath.ToSlash(filepath.Join(filepath.Base(filepath.Clean(suite)), rel)))
	}
	t := newViewTest(name, s, "")
	var parts []string
	if len(t.Arch) > 0 {
		parts = append(parts, strings.Join(t.Arch, ", "))
	}
	if t.Kernel != "" {
		parts = append(parts, "kernel `"+t.Kernel+"`")
	}
	if t.Variant != "" {
		parts = append(parts, "+"+t.Variant+" kernel")
	}
	for _, f := range t.Flavours {
		parts = append(parts, "`--flavour "+f+"`")
	}
	if len(parts) == 0 {
		return label
	}
	return label + " (" + strings.Join(parts, ", ") + ")"
}

// cell makes text safe in a Markdown table cell: one line, | escaped,
// and < too (it could open an HTML tag).
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(s)
}

// bookTableIn returns the book table of a README, markers included, and
// where it starts and ends.
func bookTableIn(text string) (table string, start, end int, err error) {
	start = strings.Index(text, "<!-- book table:")
	if start < 0 {
		return "", 0, 0, errors.New("no book table in it: put the lines " + tableBegin + " and " + tableEnd + " where it goes")
	}
	rest := strings.Index(text[start:], tableEnd)
	if rest < 0 {
		return "", 0, 0, errors.New("the book table has no end marker " + tableEnd)
	}
	end = start + rest + len(tableEnd)
	if end < len(text) && text[end] == '\n' {
		end++
	}
	return text[start:end], start, end, nil
}

// updateBookTable replaces the book table of file with table.
func updateBookTable(file, table string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(data)
	_, start, end, err := bookTableIn(text)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	text = text[:start] + table + text[end:]
	if text == string(data) {
		return nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
