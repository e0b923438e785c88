package verdict

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/symbol"
)

// A test's run directory holds what replaying it needs.
const (
	// SavedSpec is the copy of the test's spec as it was run.
	SavedSpec = result.SavedSpec
	// ResultFile is the test's result.
	ResultFile = "result.json"
	// TranscriptFile is the host–agent transcript (guest.ReadTranscript).
	TranscriptFile = "agent.log"
	// ConsoleFile is the serial console.
	ConsoleFile = "console.log"
)

// Replay judges a saved test directory again without booting anything:
// the spec copy and the transcript give each step's response, and the
// console judges a guest that stopped answering. Outcomes decided before
// any step ran (ERROR for a module that did not build, SKIP) are kept from
// result.json.
func Replay(dir string) (Result, error) {
	var old result.Test
	b, err := os.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil {
		return Result{}, fmt.Errorf("%s is not a test's run directory: %w", dir, err)
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return Result{}, fmt.Errorf("%s/%s: %w", dir, ResultFile, err)
	}
	if old.Schema != result.Schema {
		return Result{}, fmt.Errorf("%s/%s: schema %q, want %q (written by another lkmtest version?)", dir, ResultFile, old.Schema, result.Schema)
	}
	sp := filepath.Join(dir, SavedSpec)
	data, err := os.ReadFile(sp)
	if err != nil {
		return Result{}, fmt.Errorf("%s: no saved spec (%s): runs made before lkmtest saved it cannot be re-judged", dir, SavedSpec)
	}
	s, err := spec.ParseSaved(sp, data)
	if err != nil {
		return Result{}, err
	}
	tr, err := guest.ReadTranscript(filepath.Join(dir, TranscriptFile))
	if err != nil {
		return Result{}, err
	}
	res := Result{Test: old.Test, File: old.File, Kernel: old.Kernel, Arch: old.Arch, Variant: old.Variant, Cell: old.Cell,
		Outcome: result.Pass, Duration: time.Duration(old.DurationNS), Boot: time.Duration(old.BootNS),
		Modules: time.Duration(old.ModulesNS), Snapshot: old.Snapshot, Standby: old.Standby, ReusedAfter: old.ReusedAfter, FirstAttempt: old.FirstAttempt, SpecLess: old.SpecLess, Dir: dir}
	if len(tr.Sent) == 0 && (old.Outcome == result.Error || old.Outcome == result.Skip) ||
		old.Outcome == result.Error && len(tr.Sent) < len(s.Steps) {
		res.Outcome, res.Reason, res.Line, res.Excerpt, res.Stage = old.Outcome, old.Reason, old.Line, old.Excerpt, old.Stage
		return res, nil
	}
	console := func() []string { return ConsoleLines(filepath.Join(dir, ConsoleFile)) }
	judge := NewJudge(s)
	judge.Env = model.Env{Arch: old.Arch, Kernel: old.Kernel}
	judge.Symbolize = NewSymbolizer(symbol.NewTable(savedModules(dir)), s.Dir)
	for i := range s.Steps {
		st := &s.Steps[i]
		if i >= len(tr.Sent) {
			break // the test ended before this step was sent
		}
		if res.Outcome == result.Fail && st.Missing(judge.Vars) != "" {
			break // as the run did: a failed step left a value uncaptured
		}
		resp, ok := tr.Answers[tr.Sent[i]]
		if !ok {
			res.Add(StepResult{Index: i + 1, Line: st.Line, Step: st.String()})
			JudgeLost(&res, console(), "during the step", old.Outcome == result.Timeout, "see qemu.exit", judge.Symbolize)
			return res, nil
		}
		sr := judge.Step(i+1, resp)
		res.Add(sr)
		if sr.Outcome.Stops() {
			return res, nil
		}
	}
	stopped := len(res.Steps) < len(s.Steps) && res.Outcome == result.Fail && s.Steps[len(res.Steps)].Missing(judge.Vars) != ""
	if !stopped && (len(tr.Sent) < len(s.Steps) || !tr.Shutdown) {
		JudgeLost(&res, console(), "after the last step", old.Outcome == result.Timeout, "see qemu.exit", judge.Symbolize)
	}
	return res, nil
}

// RunDirs lists the test directories (holding result.json) under root,
// sorted; root itself may be one.
func RunDirs(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == ResultFile {
			out = append(out, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no test results (%s) under %s: give the --out directory of a run", ResultFile, root)
	}
	sort.Strings(out)
	return out, nil
}

// WriteResult writes r as dir's result.json (best effort: a result that
// cannot be saved is still returned to the run).
func WriteResult(dir string, r *Result) {
	rec := r.Record()
	rec.Schema = result.Schema
	b, err := json.MarshalIndent(rec, "", "  ")
	if err == nil {
		_ = os.WriteFile(filepath.Join(dir, ResultFile), append(b, '\n'), 0o600)
	}
}

// savedModules are the .ko files a run kept in its test directory
// (build/N-dir/name.ko), by module file name.
func savedModules(dir string) map[string]string {
	out := map[string]string{}
	kos, _ := filepath.Glob(filepath.Join(dir, "build", "*", "*.ko"))
	for _, ko := range kos {
		out[strings.TrimSuffix(filepath.Base(ko), ".ko")] = ko
	}
	return out
}
