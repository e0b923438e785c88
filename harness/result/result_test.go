package result

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestOutcomeFailed(t *testing.T) {
	want := map[Outcome]bool{Pass: false, Skip: false, Fail: true, Timeout: true, Crash: true, Lost: true, Error: true}
	for _, o := range Outcomes() {
		if o.Failed() != want[o] {
			t.Errorf("%s.Failed() = %v", o, o.Failed())
		}
	}
	if Worse(Fail, Crash) != Crash || Worse(Error, Pass) != Error || Worse(Skip, Pass) != Skip {
		t.Errorf("Worse does not follow the order best to worst")
	}
}

func TestCellLabel(t *testing.T) {
	for _, c := range []struct {
		cell Cell
		want string
	}{
		{Cell{Kernel: "6.1", Arch: "x86_64"}, "6.1-x86_64"},
		{Cell{Kernel: "6.1", Release: "6.1.192", Arch: "arm64"}, "6.1.192-arm64"},
		{Cell{Kernel: "6.1", Release: "6.1.192", Arch: "x86_64", Variant: "debug"}, "6.1.192-x86_64+debug"},
	} {
		if got := c.cell.Label(); got != c.want {
			t.Errorf("%+v.Label() = %q, want %q", c.cell, got, c.want)
		}
	}
	b, _ := json.Marshal(Cell{Kernel: "6.1", Release: "6.1.192", Arch: "x86_64", Variant: "debug"})
	if !strings.Contains(string(b), `"label":"6.1.192-x86_64+debug"`) || !strings.Contains(string(b), `"variant":"debug"`) {
		t.Errorf("cell JSON %s lacks its label or variant", b)
	}
	var back Cell
	if err := json.Unmarshal(b, &back); err != nil || back.Label() != "6.1.192-x86_64+debug" {
		t.Errorf("cell JSON does not read back: %+v, %v", back, err)
	}
}

func TestStageError(t *testing.T) {
	base := errors.New("make: exit status 2")
	err := InStage(StageBuild, base)
	if StageOf(err) != StageBuild || !errors.Is(err, base) {
		t.Fatalf("InStage: %v (stage %q)", err, StageOf(err))
	}
	// The first stage to fail is the one that says.
	if StageOf(InStage(StageBoot, err)) != StageBuild {
		t.Errorf("a wrapped stage error changed stage")
	}
	if got := Describe(err); got != "build: make: exit status 2" {
		t.Errorf("Describe = %q", got)
	}
	if StageOf(base) != "" || InStage(StageBoot, nil) != nil {
		t.Errorf("a plain error has a stage, or nil became an error")
	}
}

// A failure's place is its spec's line; a smoke test's, which has no
// test.yaml, is the line of the spec lkmtest wrote into its run directory.
func TestWhere(t *testing.T) {
	for _, c := range []struct {
		t    Test
		want string
	}{
		{Test{File: "mods/hello/test.yaml", Line: 7}, "mods/hello/test.yaml:7"},
		{Test{File: "mods/hello/test.yaml"}, ""},
		{Test{File: "/src/drv/test.yaml", Line: 3, SpecLess: true, Dir: "/out/6.1.192-x86_64/drv"},
			"/out/6.1.192-x86_64/drv/spec.yaml:3 (the smoke test of /src/drv, which has no test.yaml)"},
	} {
		if got := c.t.Where(); got != c.want {
			t.Errorf("Where() = %q, want %q", got, c.want)
		}
	}
}
