package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
)

func newMergeCmd() *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "merge RESULTS...",
		Short: "Join the results.json of several runs (shards, and compile-only builds) into one report",
		Long: `Read the results.json of several runs (files or run directories): the shards of
'lkmtest run' (the boot tier) and the results of 'lkmtest build' (the compile
tier), check that no result is there twice (the same test, kind and cell;
every shard of a split kernel present) and write one results.json and
junit.xml to --out. A module's build on a cell and its boot test on the same
cell are two results: the build's row is "NAME (build)" in the tables, kind
"build" in results.json. The exit status is 1 when a merged result did not
pass, as for 'run'. Under GitHub Actions the merged report is written to the
step summary (the jobs' own runs annotated their failures).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" && format != "ktap" {
				return fmt.Errorf("--format %q: want text, json or ktap", format)
			}
			var runs []*report.Run
			for _, a := range args {
				r, err := report.ReadJSON(a)
				if err != nil {
					return fmt.Errorf("merge: %w", err)
				}
				runs = append(runs, r)
			}
			m, err := report.Merge(runs...)
			if err != nil {
				return err
			}
			if err := writeReports(out, m); err != nil {
				return err
			}
			if w := cmd.OutOrStdout(); !printMachine(w, format, m) {
				for _, t := range m.Results {
					if t.Outcome.Failed() {
						fmt.Fprintf(w, "%-7s %s [%s]: %s\n", t.Outcome, t.Row(), t.Cell, t.Reason)
					}
				}
				fmt.Fprintf(w, "%d passed, %d failed, %d skipped (merged %s)\n", m.Totals.Passed, m.Totals.Failed,
					m.Totals.Skipped, mergedWhat(runs, m))
			}
			// Annotations came from the runs themselves; the merge adds
			// the summary of the whole.
			if env := readEnv(); env.githubActions {
				githubSummary(m, env.githubStepSummary)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "merged reports: %s\n", filepath.Join(out, "results.json"))
			return verdictExit(cmd.ErrOrStderr(), m.OK(), m.Totals.Passed, m.Totals.Skipped)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", filepath.Join("lkmtest-out", "merged"), "directory for the merged results.json and junit.xml")
	cmd.Flags().StringVar(&format, "format", "text", "what to print on stdout: text, json or ktap")
	return cmd
}

// mergedWhat says what a merge joined: "2 runs: 1/2, 2/2", and the
// compile-only results when there are some ("3 runs: 1/2, 2/2; 4 builds").
func mergedWhat(runs []*report.Run, m *report.Run) string {
	builds := 0
	for _, t := range m.Results {
		if t.Kind == result.KindBuild {
			builds++
		}
	}
	s := fmt.Sprintf("%d runs", len(runs))
	if len(m.Shards) > 0 {
		s += ": " + strings.Join(m.Shards, ", ")
	}
	if builds > 0 {
		s += fmt.Sprintf("; %d builds, %d tests", builds, len(m.Results)-builds)
	}
	return s
}
