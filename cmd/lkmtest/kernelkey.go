package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// newKernelKeyCmd is 'lkmtest kernel key'.
func newKernelKeyCmd(c *common) *cobra.Command {
	var suite, shard string
	var jsonOut, combined bool
	cmd := &cobra.Command{
		Use:   "key [TEST|DIR...]",
		Short: "Print the cache keys of the kernels a run would build, without building anything",
		Long: `Print the cache key of every kernel of --kernel x --arch (with --flavour and
--kconfig) that a run would build, and whether the cache holds it. With test
names, module directories or --suite (and --shard), the kernel variants their
specs' boot.config ask for are listed too, as 'lkmtest run' with the same
arguments would prepare them; with none, the cells' kernels alone.

The key is computed by the function a build uses (source identity, arch,
merged config after the quirk table, compiler version, quirk make
variables), but nothing is downloaded, unpacked or built: a kernel.org
release is named by its sha256, a Debian series by its tarball. A CI cache
keyed on --combined (one hash of every key) is therefore stale exactly when
lkmtest would rebuild a kernel.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, cells, err := c.options(cmd, "")
			if err != nil {
				return err
			}
			var specs []*spec.Spec
			if suite != "" || len(args) > 0 || shard != "" {
				if suite == "" {
					suite = defaultSuite()
				}
				if specs, err = harness.SelectSpecs(suite, args); err != nil {
					return err
				}
				if shard != "" {
					i, n, err := harness.ParseShard(shard)
					if err != nil {
						return err
					}
					specs = harness.Shard(specs, i, n)
				}
			}
			keys, err := harness.KernelKeys(cmd.Context(), o, cells, specs)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch {
			case combined:
				fmt.Fprintln(w, combinedKey(keys))
			case jsonOut:
				b, err := json.MarshalIndent(keys, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(w, string(b))
			default:
				tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
				fmt.Fprintln(tw, "KEY\tCELL\tCACHED")
				for _, k := range keys {
					state := "no"
					if k.Cached {
						state = "yes"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Key, k.Cell, state)
				}
				return tw.Flush()
			}
			return nil
		},
	}
	c.addTargetFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&suite, "suite", "", "directory searched for test.yaml files, as for 'lkmtest run' (default with test names: ./modules, else .)")
	f.StringVar(&shard, "shard", "", "only the tests of shard I/N, as for 'lkmtest run --shard'")
	f.BoolVar(&jsonOut, "json", false, "print the kernels as a JSON array (cell, kernel, release, arch, variant, key, cached)")
	f.BoolVar(&combined, "combined", false, "print one key for all the kernels together (for a CI cache key)")
	return cmd
}

// combinedKey is one key for a set of kernels, whatever their order.
func combinedKey(keys []harness.KernelKey) string {
	var ks []string
	for _, k := range keys {
		ks = append(ks, k.Key)
	}
	sort.Strings(ks)
	return cache.Key(append([]string{"kernels/v1"}, ks...)...)
}
