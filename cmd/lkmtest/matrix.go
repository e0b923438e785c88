package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/report"
)

// matrixEntry is one job of a CI matrix.
type matrixEntry struct {
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	Shard  string `json:"shard"`
}

func newMatrixCmd(c *common) *cobra.Command {
	var shards int
	var gh bool
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Print the CI jobs of a run: kernel x arch x shard",
		Long: `Print one job per (kernel, arch, shard) of --kernel, --arch and --shards. With
--github the jobs are a JSON object for a GitHub Actions strategy.matrix:

  matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}

and each job runs 'lkmtest run --kernel K --arch A --shard S'; 'lkmtest merge'
joins their results.json files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if shards < 1 {
				return fmt.Errorf("--shards %d: want 1 or more", shards)
			}
			cells, err := c.cells(cmd)
			if err != nil {
				return err
			}
			var jobs []matrixEntry
			for _, cell := range cells {
				for i := 1; i <= shards; i++ {
					jobs = append(jobs, matrixEntry{Kernel: cell.Kernel, Arch: string(cell.Arch), Shard: fmt.Sprintf("%d/%d", i, shards)})
				}
			}
			w := cmd.OutOrStdout()
			if gh {
				b, err := json.Marshal(map[string][]matrixEntry{"include": jobs})
				if err != nil {
					return err
				}
				fmt.Fprintln(w, string(b))
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "KERNEL\tARCH\tSHARD")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", j.Kernel, j.Arch, j.Shard)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.arch, "arch", "x86_64,arm64", "guest architectures, comma-separated")
	f.StringVar(&c.kernel, "kernel", "6.1", "kernels, comma-separated")
	f.IntVar(&shards, "shards", 1, "split each (kernel, arch) into this many shards")
	f.BoolVar(&gh, "github", false, "print a JSON object for a GitHub Actions strategy.matrix")
	return cmd
}

func newMergeCmd() *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "merge RESULTS...",
		Short: "Join the results.json of several runs (shards) into one report",
		Long: `Read the results.json of several runs (files or run directories), check that no
test ran twice on the same cell, and write one results.json and junit.xml to
--out. The exit status is 1 when a merged test did not pass, as for 'run'.
Under GitHub Actions the merged report is written to the step summary (the
shards' own runs annotated their failures).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			if format != "text" && format != "json" && format != "ktap" {
				return fmt.Errorf("--format %q: want text, json or ktap", format)
			}
			if w := cmd.OutOrStdout(); !printMachine(w, format, m) {
				for _, t := range m.Results {
					if t.Outcome.Failed() {
						fmt.Fprintf(w, "%-7s %s [%s]: %s\n", t.Outcome, t.Test, t.Cell, t.Reason)
					}
				}
				fmt.Fprintf(w, "%d passed, %d failed, %d skipped (merged %d runs: %s)\n", m.Totals.Passed, m.Totals.Failed,
					m.Totals.Skipped, len(runs), strings.Join(m.Shards, ", "))
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
