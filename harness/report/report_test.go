package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/ktap"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

// fixture is a run of four tests on two cells: on x86_64 hello passes,
// params fails at spec line 12, warn crashes in its own module (warn.c:7)
// and kasan is skipped; on arm64 hello passes and the rest could not run.
func fixture(t *testing.T) (*Run, string) {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"modules/hello/test.yaml", "modules/params/test.yaml", "modules/warn/test.yaml", "modules/warn/warn.c", "modules/kasan/test.yaml"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := func(name string) string { return filepath.Join(root, "modules", name, "test.yaml") }
	res := func(name, arch string, o result.Outcome, reason string) verdict.Result {
		return verdict.Result{Test: name, File: spec(name), Kernel: "6.1.192", Arch: arch, Outcome: o, Reason: reason,
			Duration: 1500 * time.Millisecond, Dir: filepath.Join(root, "out", "6.1.192-"+arch, name)}
	}
	params := res("params", "x86_64", result.Fail, "step 2 (insmod params): no log line matches ^count=3$")
	params.Line = 12
	params.Steps = []verdict.StepResult{{Index: 1, Line: 8, Step: "insmod params", Outcome: result.Pass},
		{Index: 2, Line: 12, Step: "insmod params", Outcome: result.Fail, Reason: "no log line matches ^count=3$"}}
	params.Excerpt = []string{"params: count=2"}
	warn := res("warn", "x86_64", result.Crash, "step 1 (insmod warn): WARNING in warn_init")
	warn.Line = 9
	warn.Steps = []verdict.StepResult{{Index: 1, Line: 9, Step: "insmod warn", Outcome: result.Crash,
		Reports: []klog.Report{{Kind: "WARNING", Title: "WARNING in warn_init", Module: "warn",
			Header: "WARNING: CPU: 0 PID: 25 at warn.c:7 warn_init+0x0/0x10 [warn]"}},
		Allowed: []klog.Report{{Kind: "WARNING", Title: "WARNING in refcount_warn_saturate",
			Header: "WARNING: CPU: 0 PID: 25 at lib/refcount.c:31 refcount_warn_saturate+0x42/0xe0"}}}}
	results := []verdict.Result{
		res("hello", "x86_64", result.Pass, ""), params, warn, res("kasan", "x86_64", result.Skip, "needs CONFIG_KASAN=y"),
		res("hello", "arm64", result.Pass, ""),
		res("params", "arm64", result.Error, "module build failed"), res("warn", "arm64", result.Timeout, "step 1: did not finish within 5s"),
		res("kasan", "arm64", result.Skip, "needs CONFIG_KASAN=y"),
	}
	cells := []result.Cell{{Release: "6.1.192", Kernel: "6.1", Arch: "x86_64"}, {Release: "6.1.192", Kernel: "6.1", Arch: "arm64"}}
	return New("test", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), cells, verdict.Records(results)), root
}

func TestTotals(t *testing.T) {
	r, _ := fixture(t)
	want := Totals{Tests: 8, Passed: 2, Failed: 4, Skipped: 2, Outcomes: map[result.Outcome]int{
		result.Pass: 2, result.Skip: 2, result.Fail: 1, result.Crash: 1, result.Error: 1, result.Timeout: 1}}
	if !reflect.DeepEqual(r.Totals, want) {
		t.Errorf("totals = %+v, want %+v", r.Totals, want)
	}
	if r.OK() {
		t.Error("OK() with failures")
	}
	crashes := r.Results[2].Crashes
	if len(crashes) != 2 || crashes[0].Source != "warn.c:7" || crashes[0].Allowed || !crashes[1].Allowed || crashes[1].Source != "lib/refcount.c:31" {
		t.Errorf("crashes = %+v", crashes)
	}
}

// TestJSONSchema writes results.json, reads it back and checks the
// documented keys by name (a renamed field breaks users' scripts).
func TestJSONSchema(t *testing.T) {
	r, root := fixture(t)
	p := filepath.Join(root, "results.json")
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(root) // a run directory works too
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("read back differs:\n%+v\n%+v", back, r)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "started", "duration_ns", "cells", "totals", "results"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	if raw["schema"] != "lkmtest.results/v1" {
		t.Errorf("schema = %v", raw["schema"])
	}
	params := raw["results"].([]any)[1].(map[string]any)
	for k, want := range map[string]any{"test": "params", "kernel": "6.1.192", "arch": "x86_64", "cell": "6.1.192-x86_64",
		"outcome": "FAIL", "line": 12.0, "duration_ns": 1.5e9} {
		if params[k] != want {
			t.Errorf("results[1].%s = %v, want %v", k, params[k], want)
		}
	}
	if ex, _ := params["excerpt"].([]any); len(ex) != 1 || ex[0] != "params: count=2" {
		t.Errorf("excerpt = %v", params["excerpt"])
	}
	bad := strings.Replace(buf.String(), Schema, "lkmtest.results/v0", 1)
	if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSON(p); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("ReadJSON of another schema: %v", err)
	}
}

// TestJUnitReadBack parses the XML with encoding/xml, independently of the
// writer's types.
func TestJUnitReadBack(t *testing.T) {
	r, _ := fixture(t)
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Data    string `xml:",chardata"`
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name      string  `xml:"name,attr"`
				Classname string  `xml:"classname,attr"`
				Time      string  `xml:"time,attr"`
				Failure   *result `xml:"failure"`
				Error     *result `xml:"error"`
				Skipped   *result `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "6.1.192-x86_64" || doc.Suites[1].Name != "6.1.192-arm64" {
		t.Fatalf("suites = %+v", doc.Suites)
	}
	x, a := doc.Suites[0], doc.Suites[1]
	if x.Tests != 4 || x.Failures != 2 || x.Errors != 0 || x.Skipped != 1 {
		t.Errorf("x86_64 counts: tests %d failures %d errors %d skipped %d", x.Tests, x.Failures, x.Errors, x.Skipped)
	}
	if a.Tests != 4 || a.Failures != 1 || a.Errors != 1 || a.Skipped != 1 {
		t.Errorf("arm64 counts: tests %d failures %d errors %d skipped %d", a.Tests, a.Failures, a.Errors, a.Skipped)
	}
	if c := x.Cases[1]; c.Name != "params" || c.Failure == nil || c.Failure.Type != "FAIL" ||
		!strings.Contains(c.Failure.Data, "test.yaml:12") || !strings.Contains(c.Failure.Data, "params: count=2") || c.Time != "1.500" {
		t.Errorf("params case = %+v", c)
	}
	if c := x.Cases[2]; c.Failure == nil || c.Failure.Type != "CRASH" || !strings.Contains(c.Failure.Data, "crash: WARNING in warn_init") ||
		strings.Contains(c.Failure.Data, "refcount") {
		t.Errorf("warn case = %+v (the allowed report must not be listed)", c)
	}
	if c := x.Cases[3]; c.Skipped == nil || c.Skipped.Message != "needs CONFIG_KASAN=y" {
		t.Errorf("kasan case = %+v", c)
	}
	if c := a.Cases[1]; c.Error == nil || c.Error.Message != "module build failed" {
		t.Errorf("arm64 params case = %+v", c)
	}
}

// TestKTAPReadBack parses our KTAP with our own KTAP parser.
func TestKTAPReadBack(t *testing.T) {
	r, _ := fixture(t)
	var buf bytes.Buffer
	if err := r.WriteKTAP(&buf); err != nil {
		t.Fatal(err)
	}
	top := ktap.Parse(strings.Split(buf.String(), "\n"))
	want := []ktap.Case{
		{Path: "6.1.192-x86_64.hello", Outcome: ktap.Pass},
		{Path: "6.1.192-x86_64.params", Outcome: ktap.Fail},
		{Path: "6.1.192-x86_64.warn", Outcome: ktap.Fail},
		{Path: "6.1.192-x86_64.kasan", Outcome: ktap.Skip, Reason: "needs CONFIG_KASAN=y"},
		{Path: "6.1.192-arm64.hello", Outcome: ktap.Pass},
		{Path: "6.1.192-arm64.params", Outcome: ktap.Fail},
		{Path: "6.1.192-arm64.warn", Outcome: ktap.Fail},
		{Path: "6.1.192-arm64.kasan", Outcome: ktap.Skip, Reason: "needs CONFIG_KASAN=y"},
	}
	got := top.Cases()
	if len(got) != len(want) {
		t.Fatalf("cases = %+v\nKTAP:\n%s", got, buf.String())
	}
	for i := range want {
		if got[i].Path != want[i].Path || got[i].Outcome != want[i].Outcome || (want[i].Reason != "" && got[i].Reason != want[i].Reason) {
			t.Errorf("case %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[1].Reason, "FAIL: step 2 (insmod params)") {
		t.Errorf("params reason = %q, want the outcome and reason as diagnostics", got[1].Reason)
	}
	if len(top.Problems) > 0 || len(top.Subtests) != 2 || len(top.Subtests[0].Problems) > 0 {
		t.Errorf("KTAP problems: %v / %v", top.Problems, top.Subtests)
	}
}

func TestAnnotations(t *testing.T) {
	r, root := fixture(t)
	got := r.Annotations(root)
	want := []string{
		"::error file=modules/params/test.yaml,line=12,title=FAIL%3A params on 6.1.192-x86_64::step 2 (insmod params): no log line matches ^count=3$",
		"::error file=modules/warn/test.yaml,line=9,title=CRASH%3A warn on 6.1.192-x86_64::step 1 (insmod warn): WARNING in warn_init",
		"::error file=modules/warn/warn.c,line=7,title=WARNING in warn on 6.1.192-x86_64::WARNING in warn_init",
		"::error file=modules/params/test.yaml,title=ERROR%3A params on 6.1.192-arm64::module build failed",
		"::error file=modules/warn/test.yaml,title=TIMEOUT%3A warn on 6.1.192-arm64::step 1: did not finish within 5s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := annotation("error", "a,b.yaml", 1, "x", "50%\nline2"); a != "::error file=a%2Cb.yaml,line=1,title=x::50%25%0Aline2" {
		t.Errorf("escaping: %s", a)
	}
	// Outside the checkout: no file (GitHub would drop the annotation).
	if got := r.Annotations(t.TempDir()); !strings.HasPrefix(got[0], "::error title=") {
		t.Errorf("annotation outside root: %s", got[0])
	}
}

func TestSummary(t *testing.T) {
	r, _ := fixture(t)
	var buf bytes.Buffer
	if err := r.WriteSummary(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{
		"8 tests: 2 passed, 4 failed, 2 skipped",
		"| test | 6.1.192-x86_64 | 6.1.192-arm64 |",
		"| params | ❌ FAIL 1.5s | ⚠️ ERROR 1.5s |",
		"| warn | 💥 CRASH 1.5s | ⏱️ TIMEOUT 1.5s |",
		"<summary>FAIL <b>params</b> on 6.1.192-x86_64: step 2 (insmod params): no log line matches ^count=3$</summary>",
		"```\nparams: count=2\n```",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestMerge(t *testing.T) {
	r, _ := fixture(t)
	a, b := *r, *r
	a.Results, b.Results = r.Results[:3], r.Results[3:]
	a.Shards, b.Shards = []string{"1/2"}, []string{"2/2"}
	b.Started = r.Started.Add(time.Minute)
	m, err := Merge(&b, &a)
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Tests != 8 || m.Totals.Failed != 4 || !reflect.DeepEqual(m.Shards, []string{"1/2", "2/2"}) || !m.Started.Equal(r.Started) {
		t.Errorf("merged: totals %+v shards %v started %v", m.Totals, m.Shards, m.Started)
	}
	if m.Results[0].Cell != "6.1.192-x86_64" || m.Results[4].Cell != "6.1.192-arm64" {
		t.Errorf("merged order: %s, %s", m.Results[0].Cell, m.Results[4].Cell)
	}
	if _, err := Merge(&a, r); err == nil || !strings.Contains(err.Error(), "overlapping") {
		t.Errorf("overlapping shards merged: %v", err)
	}
	// A shard whose job wrote nothing: the merge must not say all passed.
	if _, err := Merge(&a); err == nil || !strings.Contains(err.Error(), "shard 2/2 of kernel 6.1 arm64 is missing") &&
		!strings.Contains(err.Error(), "shard 2/2 of kernel 6.1 x86_64 is missing") {
		t.Errorf("merge without shard 2/2: %v", err)
	}
}

// A test's KTAP (KUnit) cases reach results.json, JUnit (a test case each)
// and lkmtest's own KTAP (one level below the test).
func TestKUnitCasesInReports(t *testing.T) {
	v := verdict.Result{Test: "kunit-example", Kernel: "6.12.117", Arch: "x86_64", Outcome: result.Fail, Reason: "KTAP: 1 of 3 cases failed",
		Steps: []verdict.StepResult{{Index: 1, Step: "insmod kunit-example-test", Outcome: result.Fail, Cases: []ktap.Case{
			{Path: "example.example_simple_test", Outcome: ktap.Pass},
			{Path: "example.example_skip_test", Outcome: ktap.Skip, Reason: "this test should be skipped"},
			{Path: "example.example_params_test", Outcome: ktap.Fail, Reason: "Expected 1 == 2"},
		}}}}
	r := New("test", time.Now(), []result.Cell{{Release: "6.12.117", Kernel: "6.12", Arch: "x86_64"}}, verdict.Records([]verdict.Result{v}))
	if cs := r.Results[0].Cases(); len(cs) != 3 || cs[2].Outcome != "FAIL" || cs[2].Reason != "Expected 1 == 2" {
		t.Errorf("results.json cases = %+v", cs)
	}
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	x := buf.String()
	for _, want := range []string{`name="kunit-example/example.example_simple_test"`, `name="kunit-example/example.example_params_test"`, `type="KTAP FAIL"`, `<skipped message="this test should be skipped">`} {
		if !strings.Contains(x, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, x)
		}
	}
	buf.Reset()
	if err := r.WriteKTAP(&buf); err != nil {
		t.Fatal(err)
	}
	got := ktap.Parse(strings.Split(buf.String(), "\n")).Cases()
	var paths []string
	for _, c := range got {
		paths = append(paths, c.Path+"="+string(c.Outcome))
	}
	want := "6.12.117-x86_64.kunit-example.example.example_simple_test=PASS 6.12.117-x86_64.kunit-example.example.example_skip_test=SKIP 6.12.117-x86_64.kunit-example.example.example_params_test=FAIL"
	if strings.Join(paths, " ") != want {
		t.Errorf("KTAP cases = %s\nwant %s\n%s", strings.Join(paths, " "), want, buf.String())
	}
}

// A module that does not compile gets an annotation on the compiler's
// first error, in the file and line it names, besides the spec's.
func TestBuildErrorAnnotation(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "drv", "bad.c")
	v := verdict.Result{Test: "drv", File: filepath.Join(root, "drv", "test.yaml"), Kernel: "6.1.192", Arch: "x86_64", Outcome: result.Error,
		Reason: "build module " + filepath.Dir(src) + ": " + src + ":9:2: error: implicit declaration of function 'nope' (full log: build.log)"}
	partial := verdict.Result{Test: "ex", File: filepath.Join(root, "ex", "test.yaml"), Kernel: "6.1.192", Arch: "arm64", Outcome: result.Error,
		Steps: []verdict.StepResult{{Index: 3, Step: "insmod x86_only", Outcome: result.Error,
			Reason: "module x86_only was not built: " + filepath.Join(root, "ex", "x86_only.c") + ":5:10: fatal error: asm/msr.h: No such file or directory (full log: /o/build.log)"}}}
	r := New("test", time.Now(), nil, verdict.Records([]verdict.Result{v, partial}))
	got := strings.Join(r.Annotations(root), "\n")
	for _, want := range []string{
		"::error file=drv/bad.c,line=9,title=build error in drv on 6.1.192-x86_64::error: implicit declaration of function 'nope'\n",
		"::error file=ex/x86_only.c,line=5,title=build error in ex on 6.1.192-arm64::fatal error: asm/msr.h: No such file or directory",
	} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("annotations lack %q:\n%s", want, got)
		}
	}
}
