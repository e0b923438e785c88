package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/progress"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

// runFlags are the flags of 'lkmtest run'.
type runFlags struct {
	suite, out, format, shard string
	jsonOut, isolate          bool
	timeout                   time.Duration
}

func newRunCmd(c *common) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [TEST|DIR...]",
		Short: "Build the kernel and modules, boot QEMU and run tests",
		Long: `Run tests: each argument is a test name from the suite (--suite) or a module
directory holding a test.yaml. With no arguments every test of the suite runs.

The run directory (--out) gets results.json, junit.xml, timeline.json, the kernel .config of
each cell and, per test, console.log, agent.log, result.json and the build logs.
By default it is a new directory lkmtest-out/<time> (<time>-2, -3... for runs
started in the same second); an --out that holds an earlier run's results.json
is refused rather than mixed with this run.
Under GitHub Actions (GITHUB_ACTIONS=true) failures are also printed as
annotations on the spec line (and on the module source line a crash report
names) and a summary goes to $GITHUB_STEP_SUMMARY.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTests(c, cmd, f, args)
		},
	}
	c.addTargetFlags(cmd)
	c.addRegistryFlag(cmd)
	cmd.Flags().StringVar(&f.suite, "suite", "", "directory searched for test.yaml files (default: ./modules)")
	cmd.Flags().StringVar(&f.out, "out", "", "run directory for logs and results, new or empty (default: a new ./lkmtest-out/<time>, <time>-2... when taken)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "override every test's timeout (e.g. 60s)")
	cmd.Flags().StringVar(&f.format, "format", "text", "what to print on stdout: text, json (results.json) or ktap")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "same as --format json")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run shard I of N of the tests (I/N, e.g. 2/3); see 'lkmtest matrix'")
	cmd.Flags().BoolVar(&f.isolate, "isolate", false, "run every test in a VM of its own (default: a test that passed and left the guest as it found it hands its VM to the next)")
	return cmd
}

// runTests is 'lkmtest run': it runs the selected tests on every cell,
// then writes and prints the report (see reportRun).
func runTests(c *common, cmd *cobra.Command, f *runFlags, args []string) error {
	specs, shards, err := f.selectSpecs(args)
	if err != nil {
		return err
	}
	o, cells, err := c.options(cmd, "")
	if err != nil {
		return err
	}
	if f.out == "" {
		if f.out, err = newRunDir("lkmtest-out", time.Now()); err != nil {
			return err
		}
	} else if err := checkOutReuse(f.out); err != nil {
		return err
	}
	o.Out = f.out
	o.Timeout = f.timeout
	o.Isolate = f.isolate
	if o.Standby, err = standbyIdle(readEnv()); err != nil {
		return err
	}
	started := time.Now()
	ctx, logw, endLive := c.liveView(cmd.Context())
	o.Log = logw
	tl := &timeline{start: started}
	ctx = progress.WithSpans(ctx, tl.add)
	m, err := harness.RunMatrix(ctx, o, cells, specs)
	endLive()
	_ = tl.write(o.Out)
	rep := runReport(m, started, shards, err != nil || cmd.Context().Err() != nil)
	moduleDirs(rep, specs)
	err = reportRun(cmd, f, m, rep, err)
	if o.Standby > 0 && cmd.Context().Err() == nil {
		leaveStandbys(o.Standby)
	}
	return err
}

// selectSpecs checks --format and returns the tests to run: the tests of
// --suite that args select, cut to --shard, and the report's shards.
func (f *runFlags) selectSpecs(args []string) ([]*spec.Spec, []string, error) {
	if f.suite == "" {
		f.suite = defaultSuite()
	}
	specs, err := harness.SelectSpecs(f.suite, args)
	if err != nil {
		return nil, nil, err
	}
	if f.jsonOut {
		f.format = "json"
	}
	if f.format != "text" && f.format != "json" && f.format != "ktap" {
		return nil, nil, fmt.Errorf("--format %q: want text, json or ktap", f.format)
	}
	var shards []string
	if f.shard != "" {
		i, n, err := harness.ParseShard(f.shard)
		if err != nil {
			return nil, nil, err
		}
		specs, shards = harness.Shard(specs, i, n), []string{f.shard}
	}
	return specs, shards, nil
}

// reportRun writes the run's reports into --out, prints them and returns
// the command's error: runErr (the matrix's), else the verdict's exit.
func reportRun(cmd *cobra.Command, f *runFlags, m *harness.Matrix, rep *report.Run, runErr error) error {
	// Reports are written whatever happened, so that a CI job
	// whose kernel could not be prepared still leaves its ERROR
	// results for 'lkmtest merge'.
	if werr := writeReports(f.out, rep); werr != nil {
		fmt.Fprintf(os.Stderr, "lkmtest: %v\n", werr)
	}
	if len(m.Cells) == 1 && m.Cells[0].Err != nil {
		// Nothing ran: the one target could not be prepared.
		return m.Cells[0].Err
	}
	if !printMachine(cmd.OutOrStdout(), f.format, rep) {
		if len(m.Cells) > 1 {
			_ = rep.WriteTable(cmd.OutOrStdout())
		}
		_ = rep.WriteText(cmd.OutOrStdout(), len(m.Cells) > 1)
	}
	github(rep, f.format == "text")
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(os.Stderr, "artefacts: %s\n", f.out)
	for _, c := range m.Cells {
		if c.Err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.Label(), c.Err)
		}
	}
	return verdictExit(os.Stderr, rep.OK(), rep.Totals.Passed, rep.Totals.Skipped)
}

// runDirLayout names default run directories: the start time, to the
// second, so that they sort by time.
const runDirLayout = "20060102-150405"

// newRunDir creates a new run directory under parent named after now
// ("20250102-150405"), or "20250102-150405-2", "-3"... when that name is
// taken: os.Mkdir fails on an existing directory, so two runs started in
// the same second, by one process or two, never share one.
func newRunDir(parent string, now time.Time) (string, error) {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	base := filepath.Join(parent, now.Format(runDirLayout))
	for n := 1; n <= 1000; n++ {
		dir := base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("run directory: %w", err)
		}
	}
	return "", fmt.Errorf("run directory: %s and 999 more names are taken: give --out", base)
}

// checkOutReuse refuses an --out directory that holds another run's
// results: their test directories would mix with this run's (and
// 'lkmtest verdict' would judge both). An empty or new directory is fine.
func checkOutReuse(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, "results.json")); err == nil {
		return fmt.Errorf("--out %s holds the results of an earlier run (%s): remove it first (rm -r %s), give another directory, or leave out --out for a new one under lkmtest-out/",
			dir, filepath.Join(dir, "results.json"), dir)
	}
	return nil
}

// printMachine prints the report in a machine format (--format json or
// ktap) and reports whether it did; text is the caller's.
func printMachine(w io.Writer, format string, rep *report.Run) bool {
	switch format {
	case "json":
		_ = rep.WriteJSON(w)
	case "ktap":
		_ = rep.WriteKTAP(w)
	default:
		return false
	}
	return true
}

// runReport is the report of a matrix run.
func runReport(m *harness.Matrix, started time.Time, shards []string, interrupted bool) *report.Run {
	var cells []result.Cell
	for _, c := range m.Cells {
		cells = append(cells, c.Record())
	}
	rep := report.New(version(), started, cells, verdict.Records(m.Ran()))
	rep.Shards, rep.Interrupted = shards, interrupted
	return rep
}

// moduleDirs records each test's module directories in its results, for
// annotations on module source lines.
func moduleDirs(rep *report.Run, specs []*spec.Spec) {
	dirs := map[string][]string{}
	for _, s := range specs {
		for _, m := range s.Modules {
			dirs[s.File] = append(dirs[s.File], filepath.Join(s.Dir, m))
		}
	}
	for i := range rep.Results {
		rep.Results[i].Modules = dirs[rep.Results[i].File]
	}
}

// writeReports writes results.json and junit.xml into the run directory,
// each through a temporary file renamed in place.
func writeReports(dir string, rep *report.Run) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{"results.json": rep.WriteJSON, "junit.xml": rep.WriteJUnit} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := cache.WriteFileAtomic(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// github writes annotations and the step summary when running under GitHub
// Actions. Annotations go to stdout when it carries text, else to stderr
// (the runner reads workflow commands from both).
func github(rep *report.Run, toStdout bool) {
	env := readEnv()
	if !env.githubActions {
		return
	}
	w := os.Stderr
	if toStdout {
		w = os.Stdout
	}
	root := env.githubWorkspace
	if root == "" {
		root, _ = os.Getwd()
	}
	for _, a := range rep.Annotations(root) {
		fmt.Fprintln(w, a)
	}
	githubSummary(rep, env.githubStepSummary)
}

// githubSummary appends the run's Markdown summary to $GITHUB_STEP_SUMMARY
// under GitHub Actions.
func githubSummary(rep *report.Run, p string) {
	if p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lkmtest: GITHUB_STEP_SUMMARY: %v\n", err)
			return
		}
		defer f.Close()
		_ = rep.WriteSummary(f)
	}
}

func defaultSuite() string {
	if st, err := os.Stat("modules"); err == nil && st.IsDir() {
		return "modules"
	}
	return "."
}
