package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
)

func newKernelCmd(c *common) *cobra.Command {
	k := &cobra.Command{Use: "kernel", Short: "Kernel stages: build"}
	var jsonOut bool
	build := &cobra.Command{
		Use:   "build",
		Short: "Configure and build the kernel into the cache (a no-op when cached)",
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := c.options("")
			if err != nil {
				return err
			}
			t0 := time.Now()
			k, err := harness.Kernel(cmd.Context(), o)
			if err != nil {
				return err
			}
			if jsonOut {
				b, _ := json.MarshalIndent(map[string]any{"dir": k.Dir, "image": k.Image, "build_dir": k.BuildDir,
					"cached": !k.Built, "metadata": k.Meta}, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			state := "cached"
			if k.Built {
				state = "built"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s linux %s %s (%d options =y) in %.2fs\nimage: %s\nbuild dir (for make -C ... M=): %s\n",
				state, k.Meta.KernelVersion, k.Meta.Arch, k.Meta.OptionsY, time.Since(t0).Seconds(), k.Image, k.BuildDir)
			return nil
		},
	}
	c.addTargetFlags(build)
	build.Flags().BoolVar(&jsonOut, "json", false, "print the result as JSON")
	k.AddCommand(build)
	return k
}
