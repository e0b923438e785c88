// Package report turns verdicts into the files and lines people and CI
// systems read: results.json (the stable record of a run), JUnit XML, KTAP,
// GitHub Actions annotations and a Markdown step summary. It also merges the
// results of shards run apart.
//
// Every writer here works on a Run, which is plain data: a run can be
// written, read back and merged without a kernel or a VM.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/lkmtest/lkmtest/harness/verdict"
)

// Schema names the format of results.json. It changes only when a field
// changes meaning or goes away; new fields may appear without a change.
const Schema = "lkmtest.results/v1"

// Run is results.json: every result of a run (or of merged shards).
type Run struct {
	// Schema is always the Schema constant.
	Schema string `json:"schema"`
	// Version is lkmtest's version.
	Version string `json:"lkmtest_version,omitempty"`
	// Started is when the run began; DurationNS its wall time.
	Started    time.Time `json:"started"`
	DurationNS int64     `json:"duration_ns"`
	// Shards are the shards the run covers ("1/3"); empty for a whole run.
	Shards []string `json:"shards,omitempty"`
	// Interrupted is true when the run was stopped before every test ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Cells are the (kernel, arch) combinations.
	Cells []Cell `json:"cells"`
	// Totals counts the results by outcome.
	Totals Totals `json:"totals"`
	// Results holds one entry per test and cell, cell-major.
	Results []Test `json:"results"`
}

// Cell is one (kernel, arch) combination.
type Cell struct {
	// Label names the cell: "6.1.192-x86_64".
	Label string `json:"label"`
	// Kernel is the kernel as asked ("6.1") and Arch the guest arch.
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	// Error is why the cell's kernel could not be prepared.
	Error string `json:"error,omitempty"`
}

// Totals counts results.
type Totals struct {
	Tests   int `json:"tests"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"` // every outcome but PASS and SKIP
	Skipped int `json:"skipped"`
	// Outcomes counts each outcome ("CRASH": 1).
	Outcomes map[verdict.Outcome]int `json:"outcomes"`
}

// Test is the result of one test on one cell.
type Test struct {
	// Test is the test's name; File its spec (as given on the command
	// line or found in the suite) and Line the spec line the reason
	// points at (0: none).
	Test string `json:"test"`
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	// Cell is the label of the cell; Kernel the kernel release that ran
	// ("6.1.192") and Arch the guest arch.
	Cell   string `json:"cell"`
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	// Outcome is PASS, SKIP, FAIL, TIMEOUT, CRASH, LOST or ERROR; Reason
	// says why it is not PASS (or why SKIP).
	Outcome verdict.Outcome `json:"outcome"`
	Reason  string          `json:"reason,omitempty"`
	// DurationNS is the test's wall time, BootNS until the guest agent
	// answered, ModulesNS until the modules were built.
	DurationNS int64 `json:"duration_ns"`
	BootNS     int64 `json:"boot_ns,omitempty"`
	ModulesNS  int64 `json:"modules_ns,omitempty"`
	// Modules are the test's module source directories (where a crash
	// report's source line is looked up).
	Modules []string `json:"modules,omitempty"`
	// Snapshot is true when the VM was restored rather than booted.
	Snapshot bool `json:"snapshot,omitempty"`
	// Steps are the steps that ran.
	Steps []Step `json:"steps,omitempty"`
	// Crashes are the kernel's crash reports (allowed ones included).
	Crashes []Crash `json:"crashes,omitempty"`
	// Excerpt is kernel log context of a failure.
	Excerpt []string `json:"excerpt,omitempty"`
	// Dir holds the test's artefacts (console.log, agent.log, result.json).
	Dir string `json:"dir,omitempty"`
	// SpecLess is true for the smoke test of a module directory that has
	// no test.yaml (its steps were written by lkmtest: spec.yaml in Dir).
	SpecLess bool `json:"spec_less,omitempty"`
}

// Step is one judged step.
type Step struct {
	Index      int             `json:"index"`
	Line       int             `json:"line"`
	Step       string          `json:"step"`
	Outcome    verdict.Outcome `json:"outcome"`
	Reason     string          `json:"reason,omitempty"`
	DurationNS int64           `json:"duration_ns"`
	// Cases are the KTAP (KUnit) test cases the step printed.
	Cases []Case `json:"cases,omitempty"`
}

// Case is one KTAP test case of a step ("suite.case").
type Case struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Cases lists every KTAP case of the test's steps.
func (t Test) Cases() []Case {
	var out []Case
	for _, s := range t.Steps {
		out = append(out, s.Cases...)
	}
	return out
}

// Crash is a crash report of the kernel log.
type Crash struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	// Module is the module of the faulting function; Source the module
	// source line the report names ("crash.c:23"), when it names one.
	Module string `json:"module,omitempty"`
	Source string `json:"source,omitempty"`
	// Allowed is true when the spec allows the report.
	Allowed bool `json:"allowed,omitempty"`
	// Incomplete is true when the log ends inside the report.
	Incomplete bool `json:"incomplete,omitempty"`
	// Step is the step it appeared in (0: outside every step).
	Step int `json:"step,omitempty"`
}

// New makes the record of a run from its cells and results.
func New(version string, started time.Time, cells []Cell, results []verdict.Result) *Run {
	r := &Run{Schema: Schema, Version: version, Started: started.UTC().Truncate(time.Millisecond),
		DurationNS: time.Since(started).Nanoseconds(), Cells: cells}
	for i := range results {
		r.Results = append(r.Results, fromResult(&results[i]))
	}
	// Cell-major, each cell's tests in the order they were given.
	order := map[string]int{}
	for _, t := range r.Results {
		if _, ok := order[t.Kernel+"-"+t.Arch]; !ok {
			order[t.Kernel+"-"+t.Arch] = len(order)
		}
	}
	sort.SliceStable(r.Results, func(a, b int) bool {
		return order[r.Results[a].Kernel+"-"+r.Results[a].Arch] < order[r.Results[b].Kernel+"-"+r.Results[b].Arch]
	})
	r.count()
	return r
}

func fromResult(v *verdict.Result) Test {
	t := Test{Test: v.Test, File: v.File, Line: v.Line, Cell: v.Kernel + "-" + v.Arch, Kernel: v.Kernel, Arch: v.Arch,
		Outcome: v.Outcome, Reason: v.Reason, DurationNS: v.Duration.Nanoseconds(), BootNS: v.Boot.Nanoseconds(),
		ModulesNS: v.Modules.Nanoseconds(), Snapshot: v.Snapshot, Excerpt: v.Excerpt, Dir: v.Dir, SpecLess: v.SpecLess}
	if v.Dir != "" {
		// The run directory names the cell (6.1.192-x86_64+debug for a
		// spec's own kernel variant).
		t.Cell = filepath.Base(filepath.Dir(v.Dir))
	}
	for _, s := range v.Steps {
		st := Step{Index: s.Index, Line: s.Line, Step: s.Step, Outcome: s.Outcome, Reason: s.Reason,
			DurationNS: s.Duration.Nanoseconds()}
		for _, c := range s.Cases {
			st.Cases = append(st.Cases, Case{Name: c.Path, Outcome: string(c.Outcome), Reason: c.Reason})
		}
		t.Steps = append(t.Steps, st)
		for _, rep := range s.Reports {
			t.Crashes = append(t.Crashes, Crash{Kind: string(rep.Kind), Title: rep.Title, Module: rep.Module,
				Source: SourceLine(rep.Header), Step: s.Index, Incomplete: rep.Incomplete})
		}
		for _, rep := range s.Allowed {
			t.Crashes = append(t.Crashes, Crash{Kind: string(rep.Kind), Title: rep.Title, Module: rep.Module,
				Source: SourceLine(rep.Header), Allowed: true, Step: s.Index, Incomplete: rep.Incomplete})
		}
	}
	for _, rep := range v.Reports {
		t.Crashes = append(t.Crashes, Crash{Kind: string(rep.Kind), Title: rep.Title, Module: rep.Module,
			Source: SourceLine(rep.Header), Incomplete: rep.Incomplete})
	}
	return t
}

// count fills in Totals.
func (r *Run) count() {
	r.Totals = Totals{Outcomes: map[verdict.Outcome]int{}}
	for _, t := range r.Results {
		r.Totals.Tests++
		r.Totals.Outcomes[t.Outcome]++
		switch t.Outcome {
		case verdict.Pass:
			r.Totals.Passed++
		case verdict.Skip:
			r.Totals.Skipped++
		default:
			r.Totals.Failed++
		}
	}
}

// OK reports whether every test passed or was skipped.
func (r *Run) OK() bool { return r.Totals.Failed == 0 && !r.Interrupted }

// WriteJSON writes results.json.
func (r *Run) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a results.json (or the results.json of a run directory).
func ReadJSON(path string) (*Run, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q (written by another lkmtest version?)", path, r.Schema, Schema)
	}
	return &r, nil
}

// Merge joins the runs of shards into one. A test that appears in more than
// one run (the same test and cell) is an error: shards must not overlap.
func Merge(runs ...*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("merge: no results")
	}
	out := &Run{Schema: Schema, Version: runs[0].Version, Started: runs[0].Started}
	cells := map[string]bool{}
	seen := map[string]int{}
	var end time.Time
	for i, r := range runs {
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if e := r.Started.Add(time.Duration(r.DurationNS)); e.After(end) {
			end = e
		}
		out.Shards = append(out.Shards, r.Shards...)
		out.Interrupted = out.Interrupted || r.Interrupted
		for _, c := range r.Cells {
			if !cells[c.Label] {
				cells[c.Label] = true
				out.Cells = append(out.Cells, c)
			}
		}
		for _, t := range r.Results {
			k := t.Cell + "\x00" + t.Test
			if j, dup := seen[k]; dup {
				return nil, fmt.Errorf("merge: %s on %s is in results %d and %d (overlapping shards?)", t.Test, t.Cell, j+1, i+1)
			}
			seen[k] = i
			out.Results = append(out.Results, t)
		}
	}
	if err := checkShards(runs); err != nil {
		return nil, err
	}
	out.DurationNS = end.Sub(out.Started).Nanoseconds()
	sort.Strings(out.Shards)
	sort.SliceStable(out.Results, func(a, b int) bool {
		ra, rb := out.Results[a], out.Results[b]
		if ra.Cell != rb.Cell {
			return cellIndex(out.Cells, ra.Cell) < cellIndex(out.Cells, rb.Cell)
		}
		return ra.Test < rb.Test
	})
	out.count()
	return out, nil
}

// checkShards refuses a merge in which a (kernel, arch) has some shards of
// N but not all: a shard whose job died before writing its results must
// not let the merge say "all passed".
func checkShards(runs []*Run) error {
	type key struct{ kernel, arch string }
	seen := map[key]map[int]bool{}
	total := map[key]int{}
	for _, r := range runs {
		for _, sh := range r.Shards {
			var i, n int
			if _, err := fmt.Sscanf(sh, "%d/%d", &i, &n); err != nil || n < 1 {
				return fmt.Errorf("merge: shard %q is not I/N", sh)
			}
			for _, c := range r.Cells {
				k := key{c.Kernel, c.Arch}
				if total[k] != 0 && total[k] != n {
					return fmt.Errorf("merge: %s %s was split into %d and into %d shards", c.Kernel, c.Arch, total[k], n)
				}
				total[k] = n
				if seen[k] == nil {
					seen[k] = map[int]bool{}
				}
				seen[k][i] = true
			}
		}
	}
	for k, n := range total {
		for i := 1; i <= n; i++ {
			if !seen[k][i] {
				return fmt.Errorf("merge: shard %d/%d of kernel %s %s is missing (did its job end before writing results.json?)", i, n, k.kernel, k.arch)
			}
		}
	}
	return nil
}

func cellIndex(cells []Cell, label string) int {
	for i, c := range cells {
		if c.Label == label {
			return i
		}
	}
	return len(cells)
}

// CellLabels returns the cells in order of first appearance in the results
// (a cell variant, "6.1.192-x86_64+debug", included).
func (r *Run) CellLabels() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range r.Results {
		if !seen[t.Cell] {
			seen[t.Cell] = true
			out = append(out, t.Cell)
		}
	}
	return out
}

// sourceRE finds the "file.c:123" a report header names: "WARNING: CPU: 0
// PID: 25 at hello.c:29 func+0x0/0x10", "kernel BUG at hello.c:34!",
// "BUG: sleeping function called from invalid context at hello.c:47".
var sourceRE = regexp.MustCompile(` at ([A-Za-z0-9_./+-]+\.[chS]):([0-9]+)\b`)

// SourceLine returns the "file:line" a crash report's header names, or "".
func SourceLine(header string) string {
	m := sourceRE.FindStringSubmatch(header)
	if m == nil {
		return ""
	}
	return m[1] + ":" + m[2]
}
