package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/result"
)

// tierRuns are a boot-tier run (hello and params on 6.1 x86_64, params
// failing) and a compile-tier one (hello and params built on 6.1 and 5.4,
// params failing to compile on 5.4).
func tierRuns() (boot, build *Run) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	rec := func(name, kernel string, o result.Outcome, kind string) result.Test {
		return result.Test{Test: name, File: "modules/" + name + "/test.yaml", Cell: kernel + "-x86_64", Kernel: kernel, Arch: "x86_64",
			Outcome: o, Kind: kind, DurationNS: int64(time.Second)}
	}
	cell := func(kernel, release string) result.Cell {
		return result.Cell{Kernel: kernel, Release: release, Arch: "x86_64"}
	}
	boot = New("test", t0, []result.Cell{cell("6.1", "6.1.192")},
		[]result.Test{rec("hello", "6.1.192", result.Pass, ""), rec("params", "6.1.192", result.Fail, "")})
	build = New("test", t0.Add(time.Minute), []result.Cell{cell("6.1", "6.1.192"), cell("5.4.302", "5.4.302")},
		[]result.Test{rec("hello", "6.1.192", result.Pass, result.KindBuild), rec("params", "6.1.192", result.Pass, result.KindBuild),
			rec("hello", "5.4.302", result.Pass, result.KindBuild), rec("params", "5.4.302", result.Fail, result.KindBuild)})
	return boot, build
}

// TestMergeTiers: a compile result and a boot result of the same test on
// the same cell are two rows of the merged report, never "ran twice"; the
// same build given twice is refused; the summary, the table and JUnit
// name the build rows "NAME (build)".
func TestMergeTiers(t *testing.T) {
	boot, build := tierRuns()
	m, err := Merge(boot, build)
	if err != nil {
		t.Fatalf("Merge(boot, build): %v", err)
	}
	if m.Totals.Tests != 6 || m.Totals.Passed != 4 || m.Totals.Failed != 2 {
		t.Errorf("totals %+v, want 6 results: 4 passed, 2 failed", m.Totals)
	}
	var rows []string
	for _, r := range m.Results {
		rows = append(rows, r.Cell+" "+r.Row())
	}
	want := "6.1.192-x86_64 hello (build)|6.1.192-x86_64 params (build)|6.1.192-x86_64 hello|6.1.192-x86_64 params|5.4.302-x86_64 hello (build)|5.4.302-x86_64 params (build)"
	if got := strings.Join(rows, "|"); got != want {
		t.Errorf("merged rows:\n%s\nwant\n%s", got, want)
	}
	if len(m.Cells) != 2 {
		t.Errorf("cells %v: want 6.1.192 and 5.4.302, each once", m.CellLabels())
	}
	if _, err := Merge(boot, build, build); err == nil || !strings.Contains(err.Error(), "hello (build) on 6.1.192-x86_64 is in results 2 and 3") {
		t.Errorf("the build twice: %v, want the duplicate named", err)
	}
	var sum bytes.Buffer
	if err := m.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| hello | ✅ PASS 1.0s | – |", "| hello (build) | ✅ PASS 1.0s | ✅ PASS 1.0s |", "| params (build) | ✅ PASS 1.0s | ❌ FAIL 1.0s |",
		"FAIL <b>params (build)</b> on 5.4.302-x86_64"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	var table bytes.Buffer
	if err := m.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "\nhello (build)  ") || !strings.Contains(table.String(), "\nhello  ") {
		t.Errorf("table:\n%s", table.String())
	}
	var junit bytes.Buffer
	if err := m.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), `name="params (build)"`) || !strings.Contains(junit.String(), `name="params"`) {
		t.Errorf("junit.xml lacks the two params rows:\n%s", junit.String())
	}
	// A boot report alone names its rows as before.
	var plain bytes.Buffer
	_ = boot.WriteSummary(&plain)
	if strings.Contains(plain.String(), "(build)") || !strings.Contains(plain.String(), "| hello |") {
		t.Errorf("boot summary:\n%s", plain.String())
	}
}
