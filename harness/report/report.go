package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lkmtest/lkmtest/harness/result"
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
	// Cells are the (kernel, arch) combinations, each followed by the
	// kernel variants of it that tests ran on.
	Cells []result.Cell `json:"cells"`
	// Totals counts the results by outcome.
	Totals Totals `json:"totals"`
	// Results holds one entry per test and cell, cell-major.
	Results []result.Test `json:"results"`
}

// Totals counts results.
type Totals struct {
	Tests   int `json:"tests"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"` // every outcome but PASS and SKIP
	Skipped int `json:"skipped"`
	// Outcomes counts each outcome ("CRASH": 1).
	Outcomes map[result.Outcome]int `json:"outcomes"`
}

// New makes the record of a run from its cells (as asked) and the records
// of its tests. A test's variant cell (6.1.192-x86_64+debug) is listed
// right after its base cell.
func New(version string, started time.Time, cells []result.Cell, tests []result.Test) *Run {
	r := &Run{Schema: Schema, Version: version, Started: started.UTC().Truncate(time.Millisecond),
		DurationNS: time.Since(started).Nanoseconds()}
	variants := map[string][]result.Cell{} // base label -> variant cells
	seen := map[string]bool{}
	for _, t := range tests {
		c := t.CellOf()
		if c.Variant != "" && !seen[c.Label()] {
			seen[c.Label()] = true
			variants[c.Base().Label()] = append(variants[c.Base().Label()], c)
		}
	}
	for _, c := range cells {
		r.Cells = append(r.Cells, c)
		vs := variants[c.Label()]
		sort.Slice(vs, func(a, b int) bool { return vs[a].Variant < vs[b].Variant })
		r.Cells = append(r.Cells, vs...)
	}
	r.Results = append(r.Results, tests...)
	// Cell-major, each cell's tests in the order they were given.
	sort.SliceStable(r.Results, func(a, b int) bool {
		return cellIndex(r.Cells, r.Results[a].Cell) < cellIndex(r.Cells, r.Results[b].Cell)
	})
	r.count()
	return r
}

// count fills in Totals.
func (r *Run) count() {
	r.Totals = Totals{Outcomes: map[result.Outcome]int{}}
	for _, t := range r.Results {
		r.Totals.Tests++
		r.Totals.Outcomes[t.Outcome]++
		switch {
		case t.Outcome.Failed():
			r.Totals.Failed++
		case t.Outcome == result.Skip:
			r.Totals.Skipped++
		default:
			r.Totals.Passed++
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

// Merge joins the runs of shards into one, and the compile-only results of
// 'lkmtest build' (Kind "build") with the boot tests of 'lkmtest run': a
// module's build and its test on one cell are two results. A result that
// appears in more than one run (the same kind, test and cell) is an error:
// shards must not overlap.
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
			if !cells[c.Label()] {
				cells[c.Label()] = true
				out.Cells = append(out.Cells, c)
			}
		}
		for _, t := range r.Results {
			k := t.Kind + "\x00" + t.Cell + "\x00" + t.Test
			if j, dup := seen[k]; dup {
				return nil, fmt.Errorf("merge: %s on %s is in results %d and %d (overlapping shards?)", t.Row(), t.Cell, j+1, i+1)
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
		if ra.Kind != rb.Kind {
			return ra.Kind > rb.Kind // a cell's compile results before its boot tests
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

func cellIndex(cells []result.Cell, label string) int {
	for i, c := range cells {
		if c.Label() == label {
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
