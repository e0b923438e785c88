package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

func newRunCmd(c *common) *cobra.Command {
	var suite, out string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run [TEST|DIR...]",
		Short: "Build the kernel and modules, boot QEMU and run tests",
		Long: `Run tests: each argument is a test name from the suite (--suite) or a module
directory holding a test.yaml. With no arguments every test of the suite runs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if suite == "" {
				suite = defaultSuite()
			}
			specs, err := harness.SelectSpecs(suite, args)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join("lkmtest-out", time.Now().Format("20060102-150405"))
			}
			o, err := c.options(out)
			if err != nil {
				return err
			}
			o.Timeout = timeout
			results, err := harness.Run(cmd.Context(), o, specs)
			printResults(cmd, results)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "artefacts: %s\n", out)
			for _, r := range results {
				if r.Outcome != verdict.Pass && r.Outcome != verdict.Skip {
					return exitFail
				}
			}
			return nil
		},
	}
	c.addTargetFlags(cmd)
	cmd.Flags().StringVar(&suite, "suite", "", "directory searched for test.yaml files (default: ./modules)")
	cmd.Flags().StringVar(&out, "out", "", "run directory for logs and results (default ./lkmtest-out/<time>)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "override every test's timeout (e.g. 60s)")
	return cmd
}

func defaultSuite() string {
	if st, err := os.Stat("modules"); err == nil && st.IsDir() {
		return "modules"
	}
	return "."
}

// printResults prints one line per test, the failure details and a total.
func printResults(cmd *cobra.Command, results []verdict.Result) {
	w := cmd.OutOrStdout()
	counts := map[verdict.Outcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
		fmt.Fprintf(w, "%s (%.1fs)\n", r.Summary(), r.Duration.Seconds())
		if r.Outcome != verdict.Pass && r.Outcome != verdict.Skip {
			if r.Line > 0 {
				fmt.Fprintf(w, "    at %s:%d\n", r.File, r.Line)
			}
			if len(r.Excerpt) > 0 {
				fmt.Fprintf(w, "    kernel log:\n%s\n", verdict.Indent(r.Excerpt, "      | "))
			}
			fmt.Fprintf(w, "    logs: %s\n", r.Dir)
		}
	}
	failed := len(results) - counts[verdict.Pass] - counts[verdict.Skip]
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", counts[verdict.Pass], failed, counts[verdict.Skip])
}
