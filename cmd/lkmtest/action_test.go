package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// actionRefRE is a pinned action reference: owner/repo[/path]@vN.
var actionRefRE = regexp.MustCompile(`^[a-z0-9-]+/[a-z0-9._-]+(/[a-z0-9._-]+)*@v[0-9]+$`)

// TestActionSchema checks action.yml (the composite action at the root)
// beyond what actionlint checks of its call: the keys GitHub requires,
// every input and output described, every ${{ inputs.x }} declared and
// every declared input used, every steps.ID reference to an earlier
// step's id, no expression pasted into a script (inputs reach scripts
// through env:), scripts that bash parses, pinned actions, and the
// lkmtest commands and flags the scripts run existing.
func TestActionSchema(t *testing.T) {
	a := loadAction(t, "../../action.yml")
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml: name %q, description %q, runs.using %q, %d steps: want a named, described composite action with steps",
			a.Name, a.Description, a.Runs.Using, len(a.Runs.Steps))
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required && in.Default != nil {
			t.Errorf("input %s is required and has a default", name)
		}
	}
	used := map[string]bool{}
	ids := map[string]int{}
	checkRefs := func(where string, refs []string, before int) {
		for _, ref := range refs {
			parts := strings.Split(ref, ".")
			switch parts[0] {
			case "inputs":
				if _, ok := a.Inputs[parts[1]]; !ok {
					t.Errorf("%s: ${{ %s }}: no such input", where, ref)
				}
				used[parts[1]] = true
			case "steps":
				i, ok := ids[parts[1]]
				if !ok || i >= before {
					t.Errorf("%s: %s: no earlier step has id %q", where, ref, parts[1])
				}
				if len(parts) < 3 || (parts[2] != "outputs" && parts[2] != "outcome" && parts[2] != "conclusion") {
					t.Errorf("%s: %s: want steps.ID.outputs.NAME, .outcome or .conclusion", where, ref)
				}
			case "github", "runner", "env":
			default:
				t.Errorf("%s: %s: a context the action does not use", where, ref)
			}
		}
	}
	for i, st := range a.Runs.Steps {
		where := "step " + st.Name
		if st.Name == "" {
			t.Errorf("step %d has no name", i+1)
		}
		if st.ID != "" {
			if _, dup := ids[st.ID]; dup {
				t.Errorf("%s: id %q is used twice", where, st.ID)
			}
		}
		switch {
		case (st.Run == "") == (st.Uses == ""):
			t.Errorf("%s: want exactly one of run: and uses:", where)
		case st.Run != "":
			if st.Shell != "bash" {
				t.Errorf("%s: shell %q: a composite run: step needs shell: bash", where, st.Shell)
			}
			if strings.Contains(st.Run, "${{") {
				t.Errorf("%s: an expression in the script: pass it through env: (a value must never become code)", where)
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(st.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: bash -n: %v\n%s", where, err, out)
			}
			checkScriptCommands(t, where, st.Run)
		default:
			if !actionRefRE.MatchString(st.Uses) {
				t.Errorf("%s: uses %q: want owner/repo@vN", where, st.Uses)
			}
			if st.Shell != "" || len(st.Env) > 0 {
				t.Errorf("%s: a uses: step with shell: or env:", where)
			}
		}
		checkRefs(where+" name", exprRefs(t, st.Name, false), i)
		checkRefs(where+" if", exprRefs(t, st.If, true), i)
		for k, v := range st.Env {
			checkRefs(where+" env "+k, exprRefs(t, v, false), i)
		}
		for k, v := range st.With {
			checkRefs(where+" with "+k, exprRefs(t, v, false), i)
		}
		if st.ID != "" {
			ids[st.ID] = i
		}
	}
	for name, o := range a.Outputs {
		if o.Description == "" || o.Value == "" {
			t.Errorf("output %s: want a description and a value", name)
		}
		checkRefs("output "+name, exprRefs(t, o.Value, false), len(a.Runs.Steps))
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but no step uses it", name)
		}
	}
	for _, want := range []string{"results", "outcome"} {
		if _, ok := a.Outputs[want]; !ok {
			t.Errorf("no output %q", want)
		}
	}
}

// checkScriptCommands checks each lkmtest command of a script ("$LKMTEST"
// or lkmtest, then its literal words up to the first expansion): the
// command exists and its literal flags parse.
func checkScriptCommands(t *testing.T, where, script string) {
	t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.ReplaceAll(line, "$(", " ")
		words := strings.Fields(line)
		for i, w := range words {
			if w != `"$LKMTEST"` && w != `"$bin/lkmtest"` {
				continue
			}
			var args []string
			for _, a := range words[i+1:] {
				if strings.ContainsAny(a, `"$)|&;<>`) {
					break
				}
				args = append(args, a)
			}
			if len(args) == 0 || strings.HasPrefix(args[0], "-") || strings.Contains(args[0], "/") {
				continue // the command is in a variable, or this is not a call
			}
			root := newRootCmd()
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == root {
				t.Errorf("%s runs 'lkmtest %s': no such command (%v)", where, strings.Join(args, " "), err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s runs 'lkmtest %s': %v", where, strings.Join(args, " "), err)
			}
		}
	}
}

// TestActionEndToEnd runs the action (action.yml) as GitHub would, in the
// simulated runner of ghaction_test.go: a module repository fixture
// (harness/testdata/trees/gh-action-repo) copied into a temporary
// workspace, a cache store seeded with this machine's 6.1 x86_64 kernel
// under an older key of the same kernels (restored through restore-keys),
// an empty lkmtest cache. The first run passes: host packages found
// installed (no apt-get), lkmtest built from this checkout, the kernel
// restored (no kernel make), the step summary holds the results table, the
// outputs name results.json, the reports are uploaded and the cache saved
// under the key 'lkmtest kernel key' prints. The second run, with the spec
// broken, hits the cache exactly (no save), fails, annotates the spec line,
// still uploads its reports and fails the action. The third, command
// build, compiles the module against the restored prepared tree: one
// build result, saved under the build tier's key.
func TestActionEndToEnd(t *testing.T) {
	testenv.NeedsVM(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	action := loadAction(t, filepath.Join(root, "action.yml"))
	ctx := context.Background()

	// This machine's kernel (built only if missing: make test needs it
	// anyway) and its source tree, to seed the fake cache store.
	real, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	o := &harness.Options{Cache: real, Arch: arch.X86_64, Kernel: "6.1", Log: io.Discard}
	k, err := harness.Kernel(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	src, err := harness.Source(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ws := filepath.Join(tmp, "workspace")
	if out, err := exec.Command("cp", "-a", filepath.Join(root, "harness/testdata/trees/gh-action-repo"), ws).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	simCache := filepath.Join(tmp, "lkmtest-cache")
	store := filepath.Join(tmp, "store")
	seed := filepath.Join(store, "lkmtest-Linux-run-6.1-x86_64-older", "files", simCache)
	for _, d := range []string{"kernels", "src"} {
		if err := os.MkdirAll(filepath.Join(seed, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, k.Dir, filepath.Join(seed, "kernels", filepath.Base(k.Dir)))
	copyTree(t, filepath.Dir(src.Dir), filepath.Join(seed, "src", filepath.Base(filepath.Dir(src.Dir))))

	// The key the action must compute: the kernel key of the run.
	keys, err := harness.KernelKeys(ctx, &harness.Options{Cache: real}, []harness.Cell{harness.NewCell("6.1", arch.X86_64)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantKey := "lkmtest-Linux-run-6.1-x86_64-" + combinedKey(keys)

	inputs := map[string]string{"kernels": "6.1", "arches": "x86_64", "cache-dir": simCache}
	r := newSimRunner(t, action, root, ws, store, inputs)
	r.run()
	t.Logf("first run:\n%s", tailString(r.log.String(), 4000))
	if r.failed {
		t.Fatalf("the action failed on a passing module:\n%s", r.log.String())
	}
	if !strings.Contains(r.stepLog["Host packages and KVM"], "host packages: all installed") {
		t.Errorf("the host packages step did not find every package installed (make deps installs them):\n%s", r.stepLog["Host packages and KVM"])
	}
	if c := r.caches["restore"]; c.key != wantKey || c.hit || !strings.HasSuffix(c.matched, "-older") {
		t.Errorf("restore: %+v, want key %s restored from the older entry through restore-keys", c, wantKey)
	}
	if c := r.caches["save"]; !c.saved || c.key != wantKey {
		t.Errorf("save: %+v, want the cache saved under %s", c, wantKey)
	}
	if _, err := os.Stat(filepath.Join(store, wantKey, "files", simCache, "kernels", k.Key, "metadata.json")); err != nil {
		t.Errorf("the saved cache lacks the kernel: %v", err)
	}
	if runLog := r.stepLog["lkmtest run"]; strings.Contains(runLog, "not in the cache, building") || !strings.Contains(runLog, "PASS    ghamod") {
		t.Errorf("the run step built a kernel or did not pass ghamod:\n%s", runLog)
	}
	if r.outputs["outcome"] != "pass" || r.outputs["exit-code"] != "0" || r.outputs["cache-key"] != wantKey {
		t.Errorf("outputs %v: want outcome pass, exit-code 0, cache-key %s", r.outputs, wantKey)
	}
	results := filepath.Join(ws, "lkmtest-out", "results.json")
	if r.outputs["results"] != results {
		t.Errorf("output results = %q, want %q", r.outputs["results"], results)
	}
	rep, err := report.ReadJSON(results)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Passed != 1 || rep.Totals.Tests != 1 || rep.Results[0].Test != "ghamod" || rep.Results[0].Cell != k.Meta.KernelVersion+"-x86_64" {
		t.Errorf("results.json: %+v %+v", rep.Totals, rep.Results)
	}
	sum := r.summary.String()
	for _, want := range []string{"### lkmtest: ✅ all passed", "| test | " + k.Meta.KernelVersion + "-x86_64 |", "| ghamod | ✅ PASS"} {
		if !strings.Contains(sum, want) {
			t.Errorf("step summary lacks %q:\n%s", want, sum)
		}
	}
	if p := r.artifacts["lkmtest-run-6.1-x86_64"]; p != filepath.Join(ws, "lkmtest-out") {
		t.Errorf("artifacts %v: want lkmtest-run-6.1-x86_64 holding the run directory", r.artifacts)
	}

	// Break the spec: a wrong value. The cache now hits exactly.
	spec := filepath.Join(ws, "test.yaml")
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte(strings.Replace(string(b), "is 100$", "is 101$", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs = map[string]string{"kernels": "6.1", "arches": "x86_64", "cache-dir": simCache, "out": "out-broken", "artifact-name": "broken"}
	r = newSimRunner(t, action, root, ws, store, inputs)
	r.run()
	t.Logf("second run:\n%s", tailString(r.log.String(), 4000))
	if !r.failed || r.steps["run"].outcome != "success" || r.outputs["outcome"] != "fail" || r.outputs["exit-code"] != "1" {
		t.Errorf("broken spec: action failed %v, outputs %v: want the run step to finish, outcome fail, exit-code 1 and the action failed", r.failed, r.outputs)
	}
	if c := r.caches["restore"]; !c.hit || c.key != wantKey {
		t.Errorf("second restore: %+v, want an exact hit on %s", c, wantKey)
	}
	if r.steps["save"].outcome != "skipped" {
		t.Errorf("the save step ran (%s) after an exact hit", r.steps["save"].outcome)
	}
	if _, ok := r.artifacts["broken"]; !ok {
		t.Errorf("a failing run's reports were not uploaded: %v", r.artifacts)
	}
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "- insmod: ghamod") {
			line = i + 1
		}
	}
	if ann := "::error file=test.yaml,line=" + strconv.Itoa(line) + ","; !strings.Contains(r.stepLog["lkmtest run"], ann) {
		t.Errorf("no annotation %q (the step whose expectation failed) in the run step's output:\n%s", ann, r.stepLog["lkmtest run"])
	}
	if sum := r.summary.String(); !strings.Contains(sum, "❌ failures") || !strings.Contains(sum, "| ghamod | ❌ FAIL") {
		t.Errorf("second step summary:\n%s", sum)
	}

	// The compile tier: command build, from another empty lkmtest cache
	// and a store seeded with the kernel's prepared tree (prepared only if
	// missing: the build tests need it anyway).
	frags, err := harness.Fragments(arch.X86_64)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := kbuild.PrepareKernel(ctx, real, kbuild.KernelRequest{Source: src, Arch: arch.X86_64, Fragments: frags})
	if err != nil {
		t.Fatal(err)
	}
	simCache = filepath.Join(tmp, "lkmtest-cache-build")
	seed = filepath.Join(store, "lkmtest-Linux-build-6.1-x86_64-older", "files", simCache)
	for _, d := range []string{kbuild.PreparedKind, "src"} {
		if err := os.MkdirAll(filepath.Join(seed, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, pk.Dir, filepath.Join(seed, kbuild.PreparedKind, filepath.Base(pk.Dir)))
	copyTree(t, filepath.Dir(src.Dir), filepath.Join(seed, "src", filepath.Base(filepath.Dir(src.Dir))))
	inputs = map[string]string{"command": "build", "kernels": "6.1", "arches": "x86_64", "cache-dir": simCache, "out": "out-build"}
	r = newSimRunner(t, action, root, ws, store, inputs)
	r.run()
	t.Logf("compile-only run:\n%s", tailString(r.log.String(), 3000))
	wantKey = "lkmtest-Linux-build-6.1-x86_64-" + combinedKey(keys)
	if r.failed || r.outputs["outcome"] != "pass" {
		t.Fatalf("command build: failed %v, outputs %v", r.failed, r.outputs)
	}
	if c := r.caches["save"]; !c.saved || c.key != wantKey || !strings.HasSuffix(r.caches["restore"].matched, "-older") {
		t.Errorf("command build: restore %+v, save %+v, want the older entry restored and %s saved", r.caches["restore"], c, wantKey)
	}
	if strings.Contains(r.stepLog["lkmtest build"], "preparing it") {
		t.Errorf("command build prepared a kernel:\n%s", r.stepLog["lkmtest build"])
	}
	brep, err := report.ReadJSON(r.outputs["results"])
	if err != nil {
		t.Fatal(err)
	}
	if len(brep.Results) != 1 || brep.Results[0].Kind != result.KindBuild || brep.Results[0].Outcome != result.Pass {
		t.Errorf("command build results: %+v", brep.Results)
	}
	if sum := r.summary.String(); !strings.Contains(sum, "| ghamod (build) | ✅ PASS") {
		t.Errorf("command build step summary:\n%s", sum)
	}
	if _, ok := r.artifacts["lkmtest-build-6.1-x86_64"]; !ok {
		t.Errorf("command build artifacts: %v", r.artifacts)
	}
}

// TestActionRecipes checks what actionlint cannot of the workflows that
// call the action remotely (the README's recipes, the fixture repository's
// workflow): every with: key of a lkmtest/lkmtest step is an input of
// action.yml, and every lkmtest command their scripts run exists with its
// flags.
func TestActionRecipes(t *testing.T) {
	a := loadAction(t, "../../action.yml")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	if i := strings.Index(sec, "\n## GitHub Actions\n"); i >= 0 {
		sec = sec[i+1:]
		if j := strings.Index(sec[3:], "\n## "); j >= 0 {
			sec = sec[:j+3]
		}
	}
	docs := map[string]string{}
	for i, block := range strings.Split(sec, "```yaml\n")[1:] {
		docs["README recipe "+strconv.Itoa(i+1)], _, _ = strings.Cut(block, "\n```")
	}
	fx, err := os.ReadFile("../../harness/testdata/trees/gh-action-repo/.github/workflows/lkmtest.yml")
	if err != nil {
		t.Fatal(err)
	}
	docs["the fixture's workflow"] = string(fx)
	if len(docs) < 3 {
		t.Fatalf("found %d workflows (want the README's two recipes and the fixture's)", len(docs))
	}
	calls := 0
	for name, doc := range docs {
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
					Run  string            `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(doc), &wf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for job, j := range wf.Jobs {
			for _, st := range j.Steps {
				if strings.HasPrefix(st.Uses, "lkmtest/lkmtest@") {
					calls++
					for k := range st.With {
						if _, ok := a.Inputs[k]; !ok {
							t.Errorf("%s, job %s: with: %s is not an input of action.yml", name, job, k)
						}
					}
				}
				script := strings.ReplaceAll(st.Run, "\\\n", " ")
				for _, line := range strings.Split(script, "\n") {
					_, after, ok := strings.Cut(line, `/lkmtest" `)
					if !ok {
						continue
					}
					after, _, _ = strings.Cut(after, ">>")
					args := strings.Fields(after)
					if len(args) == 0 || strings.HasPrefix(args[0], ".") {
						continue // go build -o .../lkmtest ./cmd/lkmtest
					}
					root := newRootCmd()
					cmd, rest, err := root.Find(args)
					if err != nil || cmd == root {
						t.Errorf("%s, job %s runs 'lkmtest %s': no such command", name, job, after)
						continue
					}
					if err := cmd.ParseFlags(rest); err != nil {
						t.Errorf("%s, job %s runs 'lkmtest %s': %v", name, job, after, err)
					}
				}
			}
		}
	}
	if calls < 3 {
		t.Errorf("%d calls of lkmtest/lkmtest in the recipes: the parsing is broken", calls)
	}
}
