package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
)

func newKernelCmd(c *common) *cobra.Command {
	k := &cobra.Command{Use: "kernel", Short: "Kernel stages: src, config, build"}
	var jsonOut bool
	build := &cobra.Command{
		Use:   "build",
		Short: "Configure and build kernels into the cache (a no-op when cached)",
		Long: `Configure and build the kernel of every --kernel × --arch into the cache.
A kernel already in the cache is found without running make.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, cells, err := c.options(cmd, "")
			if err != nil {
				return err
			}
			var all []map[string]any
			ctx, logw, endLive := c.liveView(cmd.Context())
			defer endLive()
			o.Log = logw
			for _, cell := range cells {
				o := *o
				o.Kernel, o.Arch = cell.Kernel, cell.Arch
				t0 := time.Now()
				k, err := harness.Kernel(ctx, &o)
				if err != nil {
					return err
				}
				if jsonOut {
					all = append(all, map[string]any{"dir": k.Dir, "image": k.Image, "build_dir": k.BuildDir,
						"cached": !k.Built, "metadata": k.Meta})
					continue
				}
				state := "cached"
				if k.Built {
					state = "built"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s linux %s %s (%d options =y) in %.2fs\nimage: %s\nbuild dir (for make -C ... M=): %s\n",
					state, k.Meta.KernelVersion, k.Meta.Arch, k.Meta.OptionsY, time.Since(t0).Seconds(), k.Image, k.BuildDir)
			}
			if jsonOut {
				var v any = all
				if len(all) == 1 {
					v = all[0]
				}
				b, _ := json.MarshalIndent(v, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			return nil
		},
	}
	c.addTargetFlags(build)
	build.Flags().BoolVar(&jsonOut, "json", false, "print the result as JSON (an array for several kernels)")

	var out string
	config := &cobra.Command{
		Use:   "config",
		Short: "Configure a kernel without building it, and check the requested options",
		Long: `Run the configure stage alone: allnoconfig with lkmtest's fragments, then
olddefconfig, then a check that every requested option survived. The
.config is written to --out (an O= directory); nothing is cached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := c.oneCell(cmd, "kernel config")
			if err != nil {
				return err
			}
			made := false
			if out == "" {
				if out, err = os.MkdirTemp("", "lkmtest-config-"); err != nil {
					return err
				}
				made = true
			}
			final, err := harness.Configure(cmd.Context(), o, out)
			if err != nil {
				if made {
					_ = cache.RemoveAll(out)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "configured (%d options =y, every requested option present): %s\n",
				final.Count("y"), filepath.Join(out, ".config"))
			return nil
		},
	}
	c.addTargetFlags(config)
	config.Flags().StringVar(&out, "out", "", "O= directory for the .config (default: a new temporary directory)")
	src := &cobra.Command{
		Use:   "src",
		Short: "Print the kernel source tree of --kernel (unpacking it into the cache if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := c.oneCell(cmd, "kernel src")
			if err != nil {
				return err
			}
			s, err := harness.Source(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), s.Dir)
			return nil
		},
	}
	c.addTargetFlags(src)
	k.AddCommand(build, config, src)
	return k
}

// oneCell is options for commands that act on one kernel and arch.
func (c *common) oneCell(cmd *cobra.Command, name string) (*harness.Options, error) {
	o, cells, err := c.options(cmd, "")
	if err != nil {
		return nil, err
	}
	if len(cells) != 1 {
		return nil, fmt.Errorf("%s: give one --kernel and one --arch", name)
	}
	return o, nil
}
