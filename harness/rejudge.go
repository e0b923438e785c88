package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/model"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

// Rejudge judges a saved test directory again without booting anything:
// the spec copy (spec.yaml) and the host–agent transcript (agent.log) give
// each step's response, and console.log judges a guest that stopped
// answering. Outcomes decided before any step ran (ERROR for a module that
// did not build, SKIP) are kept from result.json.
func Rejudge(dir string) (verdict.Result, error) {
	var old verdict.Result
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return old, fmt.Errorf("%s is not a test's run directory: %w", dir, err)
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return old, fmt.Errorf("%s/result.json: %w", dir, err)
	}
	sp := filepath.Join(dir, SavedSpec)
	data, err := os.ReadFile(sp)
	if err != nil {
		return old, fmt.Errorf("%s: no saved spec (%s): runs made before lkmtest saved it cannot be re-judged", dir, SavedSpec)
	}
	s, err := spec.ParseSaved(sp, data)
	if err != nil {
		return old, err
	}
	tr, err := readTranscript(filepath.Join(dir, "agent.log"))
	if err != nil {
		return old, err
	}
	res := verdict.Result{Test: old.Test, File: old.File, Kernel: old.Kernel, Arch: old.Arch, Outcome: verdict.Pass,
		Duration: old.Duration, Boot: old.Boot, Modules: old.Modules, Snapshot: old.Snapshot, Dir: dir}
	if len(tr.sent) == 0 && (old.Outcome == verdict.Error || old.Outcome == verdict.Skip) ||
		old.Outcome == verdict.Error && len(tr.sent) < len(s.Steps) {
		res.Outcome, res.Reason, res.Line, res.Excerpt = old.Outcome, old.Reason, old.Line, old.Excerpt
		return res, nil
	}
	judge := verdict.NewJudge(s)
	judge.Env = model.Env{Arch: old.Arch, Kernel: old.Kernel}
	for i := range s.Steps {
		st := &s.Steps[i]
		if i >= len(tr.sent) {
			break // the test ended before this step was sent
		}
		resp, ok := tr.answers[tr.sent[i]]
		if !ok {
			res.Add(verdict.StepResult{Index: i + 1, Line: st.Line, Step: st.String()})
			judgeLost(&res, readLines(filepath.Join(dir, "console.log")), "during the step", old.Outcome == verdict.Timeout, "see qemu.exit")
			return res, nil
		}
		sr := judge.Step(i+1, resp)
		res.Add(sr)
		if verdict.Stop(sr.Outcome) {
			return res, nil
		}
	}
	if len(tr.sent) < len(s.Steps) || !tr.shutdown {
		judgeLost(&res, readLines(filepath.Join(dir, "console.log")), "after the last step", old.Outcome == verdict.Timeout, "see qemu.exit")
	}
	return res, nil
}

// transcript is what agent.log holds: the step requests' ids in order and
// the responses by id.
type transcript struct {
	sent     []int
	answers  map[int]guest.Response
	shutdown bool // the shutdown request was answered
}

func readTranscript(path string) (*transcript, error) {
	tr := &transcript{answers: map[int]guest.Response{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return tr, nil // no VM was started (SKIP, or a failed module build)
	}
	if err != nil {
		return nil, fmt.Errorf("agent transcript: %w", err)
	}
	defer f.Close()
	shutdownID := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), guest.MaxMessage)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "> "):
			js := strings.TrimPrefix(line, "> ")
			if i := strings.LastIndex(js, "} ("); i >= 0 { // "(N bytes of data)"
				js = js[:i+1]
			}
			var req guest.Request
			if json.Unmarshal([]byte(js), &req) != nil {
				continue
			}
			switch req.Op {
			case guest.OpPut:
			case guest.OpShutdown:
				shutdownID = req.ID
			default:
				tr.sent = append(tr.sent, req.ID)
			}
		case strings.HasPrefix(line, "< "):
			var resp guest.Response
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "< ")), &resp) != nil || resp.ID == 0 {
				continue // the hello
			}
			if resp.ID == shutdownID {
				tr.shutdown = true
			}
			tr.answers[resp.ID] = resp
		}
	}
	return tr, sc.Err()
}

// RunDirs lists the test directories (holding result.json) under root,
// sorted; root itself may be one.
func RunDirs(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "result.json" {
			out = append(out, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no test results (result.json) under %s: give the --out directory of a run", root)
	}
	sort.Strings(out)
	return out, nil
}
