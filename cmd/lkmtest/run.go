package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
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
			o, cells, err := c.options(cmd, out)
			if err != nil {
				return err
			}
			o.Timeout = timeout
			m, err := harness.RunMatrix(cmd.Context(), o, cells, specs)
			if len(m.Cells) == 1 && m.Cells[0].Err != nil {
				// Nothing ran: the one target could not be prepared.
				return m.Cells[0].Err
			}
			if len(m.Cells) > 1 {
				printMatrix(cmd, m)
			}
			printResults(cmd, m.Ran(), len(m.Cells) > 1)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "artefacts: %s\n", out)
			for _, c := range m.Cells {
				if c.Err != nil {
					fmt.Fprintf(os.Stderr, "%s: %v\n", c.Label(), c.Err)
				}
			}
			for _, r := range m.Ran() {
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

// printMatrix prints one table: a row per test, a column per (kernel, arch).
func printMatrix(cmd *cobra.Command, m *harness.Matrix) {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "TEST")
	for j := range m.Cells {
		fmt.Fprintf(tw, "\t%s", m.Cells[j].Label())
	}
	fmt.Fprintln(tw)
	for i, name := range m.Tests {
		fmt.Fprint(tw, name)
		for j := range m.Cells {
			r := m.Result(i, j)
			switch {
			case r.Test == "":
				fmt.Fprint(tw, "\t-")
			case r.Duration > 0:
				fmt.Fprintf(tw, "\t%s %.1fs", r.Outcome, r.Duration.Seconds())
			default:
				fmt.Fprintf(tw, "\t%s", r.Outcome)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// printResults prints a line per test (only the failed ones with
// onlyFailures), the failure details and a total.
func printResults(cmd *cobra.Command, results []verdict.Result, onlyFailures bool) {
	w := cmd.OutOrStdout()
	counts := map[verdict.Outcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
		bad := r.Outcome != verdict.Pass && r.Outcome != verdict.Skip
		if !onlyFailures || bad {
			fmt.Fprintf(w, "%s (%.1fs)\n", r.Summary(), r.Duration.Seconds())
			for _, st := range r.Steps {
				for _, c := range st.Cases {
					line := fmt.Sprintf("    %-7s %s", c.Outcome, c.Path)
					if c.Reason != "" && c.Outcome != "PASS" {
						line += ": " + c.Reason
					}
					fmt.Fprintln(w, line)
				}
			}
		}
		if bad {
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
