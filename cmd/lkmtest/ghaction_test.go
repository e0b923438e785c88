package main

// A simulated GitHub Actions runner for the composite action of the
// repository root (action.yml): it runs the action's steps on this machine
// as GitHub's runner does, so that a test can run the action end to end.
//
//   - run: steps run with bash --noprofile --norc -eo pipefail (GitHub's
//     "shell: bash"), in GITHUB_WORKSPACE, with GITHUB_ACTIONS=true, CI=true,
//     a GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY file of
//     their own, RUNNER_TEMP and GITHUB_ACTION_PATH (this checkout); what a
//     step writes to GITHUB_ENV and GITHUB_PATH reaches the later steps.
//   - ${{ }} expressions (in run:, env:, with:, name:, if: and the
//     outputs' values) are evaluated as GitHub does for composite actions,
//     over the contexts inputs (given, else the defaults), steps, github,
//     runner and env, with ==, !=, &&, ||, !, parentheses and the status
//     functions; an expression this evaluator does not know fails the test
//     rather than being guessed.
//   - if: without a status function means success() && (if); a failed
//     step skips the later steps whose if: does not say always().
//   - uses: steps are not run but simulated: actions/setup-go checks that
//     the host's Go is at least the version asked; actions/cache/restore and
//     actions/cache/save copy (hard links) between the listed paths and a
//     fake cache store (exact key first, then the newest entry matching a
//     restore-keys prefix; a save to an existing key is skipped, as GitHub
//     refuses it); actions/upload-artifact checks that its path exists and
//     holds files and records the artifact.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// actionFile is action.yml.
type actionFile struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	Author      string                  `yaml:"author"`
	Branding    map[string]string       `yaml:"branding"`
	Inputs      map[string]actionInput  `yaml:"inputs"`
	Outputs     map[string]actionOutput `yaml:"outputs"`
	Runs        struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

type actionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	With  map[string]string `yaml:"with"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
}

// loadAction parses the action.yml at path.
func loadAction(t *testing.T, path string) *actionFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &a
}

// stepState is what a step left: its outputs and outcome.
type stepState struct {
	outputs map[string]string
	outcome string // success, failure, skipped
}

// simRunner runs a composite action in a simulated GitHub environment.
type simRunner struct {
	t          *testing.T
	action     *actionFile
	actionPath string // GITHUB_ACTION_PATH: the action's checkout
	workspace  string // GITHUB_WORKSPACE
	temp       string // RUNNER_TEMP
	store      string // the fake actions/cache store: <store>/<key>/files/<abs path>
	inputs     map[string]string

	env       map[string]string // GITHUB_ENV, accumulated
	path      []string          // GITHUB_PATH, accumulated (last added first)
	steps     map[string]*stepState
	failed    bool
	summary   strings.Builder        // the job's step summary (every step's)
	log       strings.Builder        // every step's output
	stepLog   map[string]string      // output by step name
	ran       []string               // the names of the steps that ran
	artifacts map[string]string      // uploaded artifact name -> path
	caches    map[string]cacheAction // what each cache step did, by step id
	outputs   map[string]string      // the action's outputs
}

// cacheAction is what a simulated cache step did.
type cacheAction struct {
	key, matched string
	hit          bool
	saved        bool
}

func newSimRunner(t *testing.T, action *actionFile, actionPath, workspace, store string, inputs map[string]string) *simRunner {
	for k := range inputs {
		if _, ok := action.Inputs[k]; !ok {
			t.Fatalf("input %q is not declared in action.yml", k)
		}
	}
	return &simRunner{t: t, action: action, actionPath: actionPath, workspace: workspace, temp: t.TempDir(),
		store: store, inputs: inputs, env: map[string]string{}, steps: map[string]*stepState{},
		stepLog: map[string]string{}, artifacts: map[string]string{}, caches: map[string]cacheAction{}}
}

// input is an input's value as the action sees it.
func (r *simRunner) input(name string) (string, bool) {
	in, ok := r.action.Inputs[name]
	if !ok {
		return "", false
	}
	if v, ok := r.inputs[name]; ok {
		return v, true
	}
	if in.Default != nil {
		return *in.Default, true
	}
	return "", true
}

// run runs every step in order, then evaluates the action's outputs.
func (r *simRunner) run() {
	for i, st := range r.action.Runs.Steps {
		id := st.ID
		if id == "" {
			id = fmt.Sprintf("__step%d", i)
		}
		cond := strings.TrimSpace(st.If)
		if cond == "" {
			cond = "success()"
		}
		cond = strings.TrimSuffix(strings.TrimPrefix(cond, "${{"), "}}")
		if !hasStatusFunc(cond) {
			cond = "success() && (" + cond + ")"
		}
		name := r.subst(st.Name)
		if !truthy(r.eval(cond)) {
			r.steps[id] = &stepState{outputs: map[string]string{}, outcome: "skipped"}
			continue
		}
		r.ran = append(r.ran, name)
		var ok bool
		var outs map[string]string
		if st.Uses != "" {
			ok, outs = r.uses(id, st)
		} else {
			ok, outs = r.runStep(name, st)
		}
		outcome := "success"
		if !ok {
			outcome, r.failed = "failure", true
		}
		r.steps[id] = &stepState{outputs: outs, outcome: outcome}
	}
	r.outputs = map[string]string{}
	for name, o := range r.action.Outputs {
		r.outputs[name] = r.subst(o.Value)
	}
}

// runStep runs a run: step with bash as GitHub does.
func (r *simRunner) runStep(name string, st actionStep) (bool, map[string]string) {
	t := r.t
	if st.Shell != "bash" {
		t.Fatalf("step %q: shell %q: the simulation runs bash steps only", name, st.Shell)
	}
	dir := filepath.Join(r.temp, "_runner_file_commands", fmt.Sprintf("%d", len(r.ran)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
		files[f] = filepath.Join(dir, strings.ToLower(f))
		if err := os.WriteFile(files[f], nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte(r.subst(st.Run)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GITHUB_") && !strings.HasPrefix(k, "RUNNER_") && !strings.HasPrefix(k, "LKMTEST_") {
			env[k] = v
		}
	}
	for k, v := range r.env {
		env[k] = v
	}
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": r.workspace,
		"GITHUB_ACTION_PATH": r.actionPath, "RUNNER_TEMP": r.temp, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64"} {
		env[k] = v
	}
	for k, v := range files {
		env[k] = v
	}
	for k, v := range st.Env {
		env[k] = r.subst(v)
	}
	if len(r.path) > 0 {
		env["PATH"] = strings.Join(r.path, ":") + ":" + env["PATH"]
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = r.workspace
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(&r.log, "##[group]%s (%.1fs, %v)\n%s##[endgroup]\n", name, time.Since(t0).Seconds(), err, out)
	r.stepLog[name] = string(out)
	outs := parseFileCommand(t, files["GITHUB_OUTPUT"])
	for k, v := range parseFileCommand(t, files["GITHUB_ENV"]) {
		r.env[k] = v
	}
	b, _ := os.ReadFile(files["GITHUB_PATH"])
	for _, p := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p != "" {
			r.path = append([]string{p}, r.path...)
		}
	}
	s, _ := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	r.summary.Write(s)
	return err == nil, outs
}

// parseFileCommand reads a GITHUB_OUTPUT or GITHUB_ENV file: name=value
// lines and name<<DELIMITER blocks.
func parseFileCommand(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				val = append(val, sc.Text())
			}
			if !closed {
				t.Fatalf("%s: %s<<%s is not closed", path, name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is neither name=value nor name<<DELIMITER", path, line)
		}
		out[name] = val
	}
	return out
}

// uses simulates a uses: step.
func (r *simRunner) uses(id string, st actionStep) (bool, map[string]string) {
	t := r.t
	with := map[string]string{}
	for k, v := range st.With {
		with[k] = r.subst(v)
	}
	action, _, _ := strings.Cut(st.Uses, "@")
	fmt.Fprintf(&r.log, "##[group]%s (simulated %s)\n", st.Uses, action)
	defer r.log.WriteString("##[endgroup]\n")
	switch action {
	case "actions/setup-go":
		want := with["go-version"]
		out, err := exec.Command("go", "env", "GOVERSION").Output()
		if err != nil {
			t.Fatalf("setup-go: the host's go: %v", err)
		}
		have := strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
		if want == "" || versionLess(have, want) {
			t.Errorf("setup-go: go-version %q: the host has Go %s", want, have)
			return false, nil
		}
		if p := with["cache-dependency-path"]; p != "" {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("setup-go: cache-dependency-path: %v", err)
				return false, nil
			}
		}
		return true, map[string]string{"go-version": have}
	case "actions/cache/restore":
		return r.cacheRestore(id, with)
	case "actions/cache/save":
		return r.cacheSave(id, with)
	case "actions/upload-artifact":
		name, path := with["name"], with["path"]
		if name == "" || strings.ContainsAny(name, "\":<>|*?\\/\r\n") {
			t.Errorf("upload-artifact: name %q is empty or holds a character GitHub refuses", name)
			return false, nil
		}
		if _, dup := r.artifacts[name]; dup {
			t.Errorf("upload-artifact: %q uploaded twice", name)
			return false, nil
		}
		n := 0
		_ = filepath.Walk(path, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				n++
			}
			return nil
		})
		if n == 0 && with["if-no-files-found"] != "ignore" {
			t.Errorf("upload-artifact %s: no files at %q", name, path)
			return with["if-no-files-found"] != "error", nil
		}
		r.artifacts[name] = path
		fmt.Fprintf(&r.log, "uploaded %s: %d files of %s\n", name, n, path)
		return true, map[string]string{"artifact-id": "1"}
	}
	t.Fatalf("step %q uses %s, which the simulation does not know", st.Name, st.Uses)
	return false, nil
}

// cachePaths are the paths of a cache step's path: input.
func (r *simRunner) cachePaths(with map[string]string) []string {
	var out []string
	for _, p := range strings.Split(with["path"], "\n") {
		if p = strings.TrimSpace(p); p != "" {
			if !filepath.IsAbs(p) {
				r.t.Fatalf("cache path %q is not absolute: the simulation copies absolute paths only", p)
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		r.t.Fatal("a cache step without paths")
	}
	return out
}

// checkKey refuses what actions/cache refuses in a key.
func (r *simRunner) checkKey(key string) {
	if key == "" || strings.Contains(key, ",") || len(key) > 512 {
		r.t.Errorf("cache key %q: empty, longer than 512 or with a comma (actions/cache refuses it)", key)
	}
}

func (r *simRunner) cacheRestore(id string, with map[string]string) (bool, map[string]string) {
	key := with["key"]
	r.checkKey(key)
	matched := ""
	if st, err := os.Stat(filepath.Join(r.store, key)); err == nil && st.IsDir() {
		matched = key
	} else {
		for _, prefix := range strings.Split(with["restore-keys"], "\n") {
			if prefix = strings.TrimSpace(prefix); prefix == "" {
				continue
			}
			entries, _ := os.ReadDir(r.store)
			var best string
			var bestTime time.Time
			for _, e := range entries {
				info, err := e.Info()
				if err == nil && e.IsDir() && strings.HasPrefix(e.Name(), prefix) && info.ModTime().After(bestTime) {
					best, bestTime = e.Name(), info.ModTime()
				}
			}
			if best != "" {
				matched = best
				break
			}
		}
	}
	outs := map[string]string{"cache-primary-key": key, "cache-matched-key": matched, "cache-hit": "false"}
	if matched == "" {
		r.caches[id] = cacheAction{key: key}
		fmt.Fprintf(&r.log, "cache not found for %s\n", key)
		return true, outs
	}
	for _, p := range r.cachePaths(with) {
		src := filepath.Join(r.store, matched, "files", p)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			r.t.Fatal(err)
		}
		copyTree(r.t, src, p)
	}
	if matched == key {
		outs["cache-hit"] = "true"
	}
	r.caches[id] = cacheAction{key: key, matched: matched, hit: matched == key}
	fmt.Fprintf(&r.log, "cache restored from %s\n", matched)
	return true, outs
}

func (r *simRunner) cacheSave(id string, with map[string]string) (bool, map[string]string) {
	key := with["key"]
	r.checkKey(key)
	dst := filepath.Join(r.store, key)
	if _, err := os.Stat(dst); err == nil {
		fmt.Fprintf(&r.log, "warning: cache entry %s exists, not saved\n", key)
		r.caches[id] = cacheAction{key: key}
		return true, nil
	}
	tmp := dst + ".tmp"
	n := 0
	for _, p := range r.cachePaths(with) {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		n++
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, "files", p)), 0o700); err != nil {
			r.t.Fatal(err)
		}
		copyTree(r.t, p, filepath.Join(tmp, "files", p))
	}
	if n == 0 {
		fmt.Fprintf(&r.log, "warning: no path of the cache exists, not saved\n")
		return true, nil
	}
	if err := os.Rename(tmp, dst); err != nil {
		r.t.Fatal(err)
	}
	r.caches[id] = cacheAction{key: key, saved: true}
	return true, nil
}

// copyTree copies src to dst (which must not exist) with hard links, as
// cp -al does: the cache entries are never written in place once
// published.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if _, err := os.Stat(dst); err == nil {
		// Restoring onto an existing directory merges, as tar does.
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := os.Lstat(filepath.Join(dst, e.Name())); err == nil {
				continue
			}
			copyTree(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
		return
	}
	if out, err := exec.Command("cp", "-al", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -al %s %s: %v\n%s", src, dst, err, out)
	}
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.TrimFunc(pa[i], func(r rune) bool { return !unicode.IsDigit(r) }))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// subst replaces every ${{ expression }} of s by its value.
func (r *simRunner) subst(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			r.t.Fatalf("unclosed ${{ in %q", s)
		}
		b.WriteString(s[:i])
		b.WriteString(str(r.eval(s[i+3 : i+j])))
		s = s[i+j+2:]
	}
}

// hasStatusFunc reports whether an if: expression calls a status function.
func hasStatusFunc(expr string) bool {
	for _, f := range []string{"success()", "always()", "failure()", "cancelled()"} {
		if strings.Contains(expr, f) {
			return true
		}
	}
	return false
}

// eval evaluates one expression (the inside of ${{ }}).
func (r *simRunner) eval(expr string) any {
	p := &exprParser{r: r, toks: tokenize(r.t, expr), src: expr}
	v := p.or()
	if p.pos != len(p.toks) {
		r.t.Fatalf("expression %q: unexpected %q", expr, p.toks[p.pos])
	}
	return v
}

// tokenize splits an expression into tokens: 'strings', operators,
// parentheses, numbers and dotted names (names may hold dashes).
func tokenize(t *testing.T, s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '\'':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				t.Fatalf("expression %q: unclosed string", s)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			toks = append(toks, s[i:i+2])
			i += 2
		case c == '!' || c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || strings.ContainsRune("_-.", rune(s[j]))) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			t.Fatalf("expression %q: the simulation does not know %q", s, string(c))
		}
	}
	return toks
}

type exprParser struct {
	r    *simRunner
	toks []string
	pos  int
	src  string
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string { t := p.peek(); p.pos++; return t }

func (p *exprParser) or() any {
	v := p.and()
	for p.peek() == "||" {
		p.next()
		w := p.and()
		if !truthy(v) {
			v = w
		}
	}
	return v
}

func (p *exprParser) and() any {
	v := p.cmp()
	for p.peek() == "&&" {
		p.next()
		w := p.cmp()
		if truthy(v) {
			v = w
		}
	}
	return v
}

func (p *exprParser) cmp() any {
	v := p.unary()
	for p.peek() == "==" || p.peek() == "!=" {
		op := p.next()
		w := p.unary()
		eq := strings.EqualFold(str(v), str(w))
		v = eq == (op == "==")
	}
	return v
}

func (p *exprParser) unary() any {
	if p.peek() == "!" {
		p.next()
		return !truthy(p.unary())
	}
	return p.primary()
}

func (p *exprParser) primary() any {
	tok := p.next()
	switch {
	case tok == "(":
		v := p.or()
		if p.next() != ")" {
			p.r.t.Fatalf("expression %q: missing )", p.src)
		}
		return v
	case strings.HasPrefix(tok, "'"):
		return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
	case tok == "true" || tok == "false":
		return tok == "true"
	case tok == "null":
		return nil
	case tok != "" && unicode.IsDigit(rune(tok[0])):
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			p.r.t.Fatalf("expression %q: number %q", p.src, tok)
		}
		return f
	case p.peek() == "(":
		p.next()
		if p.next() != ")" {
			p.r.t.Fatalf("expression %q: the simulation knows only the status functions, without arguments", p.src)
		}
		switch tok {
		case "always":
			return true
		case "success":
			return !p.r.failed
		case "failure":
			return p.r.failed
		case "cancelled":
			return false
		}
		p.r.t.Fatalf("expression %q: function %s is not simulated", p.src, tok)
	}
	return p.r.lookup(p.src, tok)
}

// lookup is a context property: inputs.x, steps.id.outputs.x,
// steps.id.outcome, github.x, runner.x, env.X.
func (r *simRunner) lookup(src, name string) any {
	parts := strings.Split(name, ".")
	switch {
	case parts[0] == "inputs" && len(parts) == 2:
		v, ok := r.input(parts[1])
		if !ok {
			r.t.Fatalf("expression %q: input %q is not declared", src, parts[1])
		}
		return v
	case parts[0] == "steps" && len(parts) >= 3:
		st, ok := r.steps[parts[1]]
		if !ok {
			if !r.hasStep(parts[1]) {
				r.t.Fatalf("expression %q: no step has id %q", src, parts[1])
			}
			return "" // a later step: not run yet
		}
		if parts[2] == "outputs" && len(parts) == 4 {
			return st.outputs[parts[3]]
		}
		if (parts[2] == "outcome" || parts[2] == "conclusion") && len(parts) == 3 {
			return st.outcome
		}
	case parts[0] == "github" && len(parts) == 2:
		switch parts[1] {
		case "action_path":
			return r.actionPath
		case "workspace":
			return r.workspace
		}
	case parts[0] == "runner" && len(parts) == 2:
		switch parts[1] {
		case "os":
			return "Linux"
		case "temp":
			return r.temp
		case "arch":
			return "X64"
		}
	case parts[0] == "env" && len(parts) == 2:
		return r.env[parts[1]]
	}
	r.t.Fatalf("expression %q: %s is not simulated", src, name)
	return nil
}

func (r *simRunner) hasStep(id string) bool {
	for _, st := range r.action.Runs.Steps {
		if st.ID == id {
			return true
		}
	}
	return false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	}
	return true
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// exprRefs lists the context references (inputs.x, steps.id.outputs.y...)
// of every ${{ }} in s, and of s itself when it is an if: condition.
func exprRefs(t *testing.T, s string, isIf bool) []string {
	var exprs []string
	rest := s
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			t.Fatalf("unclosed ${{ in %q", s)
		}
		exprs = append(exprs, rest[i+3:i+j])
		rest = rest[i+j+2:]
	}
	if isIf && !strings.Contains(s, "${{") && strings.TrimSpace(s) != "" {
		exprs = append(exprs, s)
	}
	var refs []string
	for _, e := range exprs {
		for _, tok := range tokenize(t, e) {
			if strings.Contains(tok, ".") && !strings.HasPrefix(tok, "'") && !unicode.IsDigit(rune(tok[0])) {
				refs = append(refs, tok)
			}
		}
	}
	sort.Strings(refs)
	return refs
}
