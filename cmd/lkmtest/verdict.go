package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

func newVerdictCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verdict RUN_DIR",
		Short: "Judge a saved run again, offline, from its logs and specs",
		Long: `Judge the tests of a saved run again without building or booting anything:
each test directory under RUN_DIR (the --out of 'lkmtest run') keeps its
spec (spec.yaml), the host–agent transcript with every step's kernel log
records (agent.log) and the console log. Useful after changing a spec's
expectations, or lkmtest itself. The exit status is that of 'lkmtest run'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs, err := verdict.RunDirs(args[0])
			if err != nil {
				return err
			}
			var results []verdict.Result
			for _, d := range dirs {
				r, err := verdict.Replay(d)
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			rep := report.New(version(), time.Now(), nil, verdict.Records(results))
			_ = rep.WriteText(cmd.OutOrStdout(), false)
			fmt.Fprintf(os.Stderr, "re-judged %d tests from %s\n", len(results), args[0])
			return verdictExit(os.Stderr, rep.OK(), rep.Totals.Passed, rep.Totals.Skipped)
		},
	}
}
