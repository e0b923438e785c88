package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kver"
)

// matrixEntry is one job of a boot-tier CI matrix.
type matrixEntry struct {
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	Shard  string `json:"shard"`
}

// compileEntry is one job of a compile-tier CI matrix.
type compileEntry struct {
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
}

// The tiers of 'lkmtest matrix'.
const (
	tierBoot    = "boot"
	tierCompile = "compile"
	tierAll     = "all"
)

// compileKernels is the default kernel list of the compile tier: every
// kernel.org release of the pinned table, oldest first, then the Debian
// series.
func compileKernels() []string {
	rel := kbuild.PinnedReleases()
	sort.SliceStable(rel, func(a, b int) bool { return kver.Compare(rel[a], rel[b]) < 0 })
	return append(rel, kbuild.DebianVersions...)
}

func newMatrixCmd(c *common) *cobra.Command {
	var shards int
	var gh bool
	var tier, compileKernel string
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Print the CI jobs of a run: the boot tier (kernel x arch x shard) and the compile tier (kernel x arch)",
		Long: `Print the jobs of a CI matrix. Two tiers:

  boot     one job per (kernel, arch, shard) of --kernel, --arch and --shards, each
           running 'lkmtest run --kernel K --arch A --shard S' (the LTS kernels a
           module is booted and tested on);
  compile  one job per (kernel, arch) of --compile-kernel (default: every
           kernel.org release of lkmtest's pinned table and the Debian series) and
           --arch, each running 'lkmtest build --kernel K --arch A DIR' (the
           compile-only matrix: the module built against many kernels, no boot).

--tier picks one (boot, the default, or compile) or all. With --github a tier
is a JSON object for a GitHub Actions strategy.matrix:

  matrix: ${{ fromJSON(needs.plan.outputs.boot) }}

and --tier all prints one line per tier, boot={...} and compile={...}, to
append to $GITHUB_OUTPUT; 'lkmtest merge' joins the jobs' results.json files
of both tiers into one report. With --tier compile alone, --kernel names the
compile tier's kernels too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if shards < 1 {
				return fmt.Errorf("--shards %d: want 1 or more", shards)
			}
			if tier != tierBoot && tier != tierCompile && tier != tierAll {
				return fmt.Errorf("--tier %q: want boot, compile or all", tier)
			}
			var boot []matrixEntry
			var compile []compileEntry
			if tier != tierCompile {
				cells, err := c.cells(cmd)
				if err != nil {
					return err
				}
				for _, cell := range cells {
					for i := 1; i <= shards; i++ {
						boot = append(boot, matrixEntry{Kernel: cell.Kernel, Arch: cell.Arch, Shard: fmt.Sprintf("%d/%d", i, shards)})
					}
				}
			}
			if tier != tierBoot {
				kernels := splitList(compileKernel)
				switch {
				case cmd.Flags().Changed("compile-kernel"):
				case tier == tierCompile && cmd.Flags().Changed("kernel"):
					kernels = splitList(c.kernel)
				default:
					kernels = compileKernels()
				}
				var err error
				if compile, err = compileJobs(kernels, splitList(c.arch)); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if gh {
				return printGitHubMatrix(w, tier, boot, compile)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "TIER\tKERNEL\tARCH\tSHARD")
			for _, j := range boot {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", tierBoot, j.Kernel, j.Arch, j.Shard)
			}
			for _, j := range compile {
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\n", tierCompile, j.Kernel, j.Arch)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.arch, "arch", "x86_64,arm64", "guest architectures, comma-separated (both tiers)")
	f.StringVar(&c.kernel, "kernel", "6.1", "the boot tier's kernels, comma-separated")
	f.StringVar(&compileKernel, "compile-kernel", "", "the compile tier's kernels, comma-separated (default: every pinned kernel.org release, then the Debian series)")
	f.IntVar(&shards, "shards", 1, "split each (kernel, arch) of the boot tier into this many shards")
	f.StringVar(&tier, "tier", tierBoot, "which matrix: boot, compile or all (with --github: one line per tier for $GITHUB_OUTPUT)")
	f.BoolVar(&gh, "github", false, "print JSON for a GitHub Actions strategy.matrix")
	return cmd
}

// compileJobs are the compile tier's jobs, kernel-major, each kernel and
// arch checked as a run checks them.
func compileJobs(kernels, archs []string) ([]compileEntry, error) {
	if len(kernels) == 0 || len(archs) == 0 {
		return nil, fmt.Errorf("--compile-kernel and --arch need at least one value")
	}
	for _, k := range kernels {
		if err := (kbuild.SourceRequest{Kernel: k}).Check(); err != nil {
			return nil, fmt.Errorf("compile tier: %w", err)
		}
	}
	var out []compileEntry
	for _, k := range kernels {
		for _, s := range archs {
			a, err := arch.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("--arch: %w", err)
			}
			out = append(out, compileEntry{Kernel: k, Arch: string(a)})
		}
	}
	return out, nil
}

// printGitHubMatrix prints the strategy.matrix objects of the tier: the
// object alone for one tier, boot=... and compile=... lines for all.
func printGitHubMatrix(w io.Writer, tier string, boot []matrixEntry, compile []compileEntry) error {
	bj, err := json.Marshal(map[string][]matrixEntry{"include": boot})
	if err != nil {
		return err
	}
	cj, err := json.Marshal(map[string][]compileEntry{"include": compile})
	if err != nil {
		return err
	}
	switch tier {
	case tierBoot:
		fmt.Fprintln(w, string(bj))
	case tierCompile:
		fmt.Fprintln(w, string(cj))
	default:
		fmt.Fprintf(w, "%s=%s\n%s=%s\n", tierBoot, bj, tierCompile, cj)
	}
	return nil
}
