package report

import (
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/result"
)

// A spec's kernel variant is a cell of its own, listed right after its base
// cell in results.json, in a merge and in JUnit, whatever order the results
// came in.
func TestVariantCells(t *testing.T) {
	cells := []result.Cell{{Kernel: "6.1", Release: "6.1.192", Arch: "x86_64"}, {Kernel: "6.1", Release: "6.1.192", Arch: "arm64"}}
	tests := []result.Test{
		{Test: "lockdep", Kernel: "6.1.192", Arch: "x86_64", Variant: "debug", Cell: "6.1.192-x86_64+debug", Outcome: result.Pass},
		{Test: "hello", Kernel: "6.1.192", Arch: "arm64", Cell: "6.1.192-arm64", Outcome: result.Pass},
		{Test: "hello", Kernel: "6.1.192", Arch: "x86_64", Cell: "6.1.192-x86_64", Outcome: result.Pass},
	}
	r := New("test", time.Now(), cells, tests)
	var labels []string
	for _, c := range r.Cells {
		labels = append(labels, c.Label())
	}
	want := []string{"6.1.192-x86_64", "6.1.192-x86_64+debug", "6.1.192-arm64"}
	if len(labels) != 3 || labels[0] != want[0] || labels[1] != want[1] || labels[2] != want[2] {
		t.Fatalf("cells %v, want %v", labels, want)
	}
	if got := r.CellLabels(); len(got) != 3 || got[1] != want[1] {
		t.Errorf("results order by cell %v, want %v", got, want)
	}
	// Two shards: the variant's shard comes first, yet it merges after
	// its base cell.
	a := New("test", time.Now(), cells, tests[:1])
	b := New("test", time.Now(), cells, tests[1:])
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.CellLabels(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("merged cell order %v, want %v", got, want)
	}
	suites := r.JUnit()
	var names []string
	for _, s := range suites.Suites {
		names = append(names, s.Name)
	}
	if len(names) != 3 || names[1] != "6.1.192-x86_64+debug" {
		t.Errorf("JUnit suites %v: the variant must be a suite of its own, named by its cell", names)
	}
}
