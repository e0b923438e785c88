package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

func newInitCmd(c *common) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a test.yaml for existing module code, from a smoke run",
		Long: `init writes DIR/test.yaml (default: the current directory) for module code that
has none: it builds the modules, loads each in dependency order and unloads
them in reverse in a VM of the first --kernel and --arch, and writes a spec of
those steps with the kernel log lines each printed as exact patterns. The file
says so at its top: review the patterns before relying on them (replace
addresses, pids and counters by regular expressions or captures).

Without a test.yaml, 'lkmtest run DIR' runs the same smoke test without
writing anything.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			target := filepath.Join(dir, spec.FileName)
			if _, err := os.Stat(target); err == nil && !force {
				return fmt.Errorf("%s exists: edit it, or give --force to write it anew", target)
			}
			p, err := spec.SpecLess(dir)
			if err != nil {
				return err
			}
			o, cells, err := c.options(cmd, "")
			if err != nil {
				return err
			}
			if o.Out, err = os.MkdirTemp("", "lkmtest-init-"); err != nil {
				return err
			}
			m, err := harness.RunMatrix(cmd.Context(), o, cells[:1], []*spec.Spec{p})
			if err != nil {
				return err
			}
			if m.Cells[0].Err != nil {
				return m.Cells[0].Err
			}
			r := m.Result(0, 0)
			if r.Outcome != result.Pass {
				fmt.Fprintf(os.Stderr, "lkmtest: the smoke run of %s did not pass, so no %s was written: %s %s (artefacts: %s)\n", dir, spec.FileName, r.Outcome, r.Reason, o.Out)
				return exitFail
			}
			_ = cache.RemoveAll(o.Out)
			text, steps := initSpec(p.Name, m.Cells[0].Label(), r)
			if _, err := spec.Parse(target, text); err != nil {
				return fmt.Errorf("lkmtest init wrote a spec it cannot read back (a bug): %w", err)
			}
			if err := cache.WriteFileAtomic(target, text, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d steps from a run on %s; review its log patterns, then: lkmtest run %s\n", target, steps, m.Cells[0].Label(), dir)
			return nil
		},
	}
	c.addTargetFlags(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing test.yaml")
	return cmd
}

// initSpec is the spec lkmtest init writes from a passing smoke run r.
func initSpec(name, cell string, r *verdict.Result) ([]byte, int) {
	var order []string
	var logs [][]string
	for _, st := range r.Steps {
		if mod, ok := strings.CutPrefix(st.Step, "insmod "); ok {
			order = append(order, mod)
		}
		var lines []string
		for _, rec := range st.Records {
			for _, l := range strings.Split(rec.Text, "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
		}
		logs = append(logs, lines)
	}
	header := fmt.Sprintf(`Written by lkmtest init from a run on %s (%s).
Every log pattern is a line that kernel printed, quoted exactly: REVIEW THEM.
Keep what the test must guarantee, replace varying values (addresses, pids,
counters) by regular expressions or captures, and add the steps that
exercise the module (run, read, write: see lkmtest's README).`, cell, time.Now().UTC().Format("2006-01-02"))
	return spec.SmokeYAML(name, header, order, logs), len(r.Steps)
}
