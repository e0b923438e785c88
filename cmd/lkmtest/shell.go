package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/spec"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

func newShellCmd(c *common) *cobra.Command {
	var suite string
	cmd := &cobra.Command{
		Use:   "shell [TEST|DIR]",
		Short: "Boot a test's VM and give an interactive shell on its console",
		Long: `Boot the VM of a test (its kernel, boot options, modules in /lkm and helpers
on the PATH; the modules are not loaded) and connect the terminal to a shell on
the serial console. 'exit', 'poweroff' or Ctrl-D ends it and the VM. With no
test, a plain VM of --kernel and --arch. Standard input may be a pipe.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var s *spec.Spec
			if len(args) == 1 {
				if suite == "" {
					suite = defaultSuite()
				}
				specs, err := harness.SelectSpecs(suite, args)
				if err != nil {
					return err
				}
				s = specs[0]
			}
			o, err := c.oneCell(cmd, "shell")
			if err != nil {
				return err
			}
			if s != nil && s.Boot.Config != "" {
				ref := s.Boot.Config
				if !kernelconfigs.IsRef(ref) {
					ref = filepath.Join(s.Dir, ref)
				}
				frag, err := harness.ReadFragment(ref)
				if err != nil {
					return err
				}
				o.Extra = append(o.Extra, frag)
			}
			if o.Out, err = os.MkdirTemp("", "lkmtest-shell-"); err != nil {
				return err
			}
			t, err := harness.Prepare(cmd.Context(), o)
			if err != nil {
				_ = cache.RemoveAll(o.Out)
				return err
			}
			sio := harness.ShellIO{In: os.Stdin, Out: os.Stdout, Note: os.Stderr}
			if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
				if cols, rows, err := term.GetSize(fd); err == nil {
					sio.Rows, sio.Cols = uint16(rows), uint16(cols)
				}
				// Raw: Ctrl-C, Ctrl-D and line editing belong to the guest.
				old, err := term.MakeRaw(fd)
				if err == nil {
					defer term.Restore(fd, old)
				}
			}
			start := time.Now()
			err = harness.Shell(cmd.Context(), t, s, sio)
			fmt.Fprintf(os.Stderr, "\r\nlkmtest shell: VM ended after %.1fs\r\n", time.Since(start).Seconds())
			if err != nil {
				// Keep the logs the error points to.
				fmt.Fprintf(os.Stderr, "lkmtest shell: logs kept in %s\r\n", o.Out)
				return err
			}
			return cache.RemoveAll(o.Out)
		},
	}
	c.addTargetFlags(cmd)
	cmd.Flags().StringVar(&suite, "suite", "", "directory searched for test.yaml files (default: ./modules)")
	return cmd
}
