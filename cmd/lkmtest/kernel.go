package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

func newKernelCmd(c *common) *cobra.Command {
	k := &cobra.Command{Use: "kernel", Short: "Kernel stages: src, config, build; the fragments tests can name; cache keys"}
	k.AddCommand(newKernelBuildCmd(c), newKernelConfigCmd(c), newKernelSrcCmd(c), newKernelFragmentsCmd(), newKernelKeyCmd(c),
		newKernelPushCmd(c), newKernelPullCmd(c))
	return k
}

// newKernelBuildCmd is 'lkmtest kernel build'.
func newKernelBuildCmd(c *common) *cobra.Command {
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
				t0 := time.Now()
				k, err := harness.Kernel(ctx, cellOptions(o, cell))
				if err != nil {
					return err
				}
				if jsonOut {
					all = append(all, map[string]any{"dir": k.Dir, "image": k.Image, "build_dir": k.BuildDir,
						"cached": !k.Built && k.Pulled == "", "pulled": k.Pulled, "metadata": k.Meta})
					continue
				}
				state := "cached"
				if k.Built {
					state = "built"
				}
				if k.Pulled != "" {
					state = "pulled"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s linux %s %s (%d options =y) in %.2fs\nimage: %s\nbuild dir (for make -C ... M=): %s\n",
					state, k.Meta.KernelVersion, k.Meta.Arch, k.Meta.OptionsY, time.Since(t0).Seconds(), k.Image, k.BuildDir)
			}
			return printJSON(cmd, jsonOut, all)
		},
	}
	c.addTargetFlags(build)
	c.addRegistryFlag(build)
	build.Flags().BoolVar(&jsonOut, "json", false, "print the result as JSON (an array for several kernels)")
	return build
}

// newKernelConfigCmd is 'lkmtest kernel config'.
func newKernelConfigCmd(c *common) *cobra.Command {
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
			// make runs with -C <kernel source>: a relative O= (and the
			// KCONFIG_ALLCONFIG file in it) would resolve inside the tree.
			if out, err = filepath.Abs(out); err != nil {
				return fmt.Errorf("--out: %w", err)
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
	return config
}

// newKernelSrcCmd is 'lkmtest kernel src'.
func newKernelSrcCmd(c *common) *cobra.Command {
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
	return src
}

// newKernelFragmentsCmd is 'lkmtest kernel fragments'.
func newKernelFragmentsCmd() *cobra.Command {
	fragments := &cobra.Command{
		Use:   "fragments",
		Short: "List lkmtest's kernel config fragments that tests and --kconfig can name (lkmtest:NAME)",
		Long: `List the kernel config fragments lkmtest ships (kernel-configs/NAME.config)
that a spec's boot.config or --kconfig can name as lkmtest:NAME, with the first
sentence of each one's comment. base.config and the arch fragments are applied
to every kernel and are not listed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			printFragments(cmd.OutOrStdout())
			return nil
		},
	}
	return fragments
}

// printFragments lists the nameable fragments: lkmtest:NAME, description.
func printFragments(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "FRAGMENT\tDESCRIPTION")
	for _, n := range kernelconfigs.Names() {
		fmt.Fprintf(tw, "%s%s\t%s\n", kernelconfigs.Prefix, n, kernelconfigs.Description(n))
	}
	tw.Flush()
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
