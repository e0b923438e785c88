package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/registry"
)

// Kernels shared through an OCI registry: lkmtest kernel push|pull REPO,
// and --kernel-registry REPO on run and kernel build (pull what the cache
// lacks, push what it has and the registry lacks).

// addRegistryFlag adds --kernel-registry to cmd.
func (c *common) addRegistryFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.kernelRegistry, "kernel-registry", "",
		"OCI repository of built kernels (e.g. ghcr.io/OWNER/lkmtest-kernels): pull a kernel the cache lacks before building it, push one the registry lacks; unreachable: build locally")
}

// kernelRemote is --kernel-registry as the kernel builds' remote (nil
// without the flag).
func (c *common) kernelRemote(env environment) (kbuild.Remote, error) {
	if c.kernelRegistry == "" {
		return nil, nil
	}
	r, err := newRegistry(c.kernelRegistry, env)
	if err != nil {
		return nil, fmt.Errorf("--kernel-registry: %w", err)
	}
	return r, nil
}

func newRegistry(repo string, env environment) (*registry.Registry, error) {
	return registry.New(repo, registry.Credentials{GitHubToken: env.githubToken, GitHubActor: env.githubActor})
}

// newKernelPushCmd is 'lkmtest kernel push REPO'.
func newKernelPushCmd(c *common) *cobra.Command {
	var jsonOut bool
	push := &cobra.Command{
		Use:   "push REPO",
		Short: "Push kernels to an OCI registry, tagged by their cache keys (building them first when not cached)",
		Long: `Push the kernel of every --kernel x --arch (with --flavour and --kconfig) to
the OCI repository REPO (ghcr.io/OWNER/lkmtest-kernels, localhost:5000/kernels),
tagged by its cache key, replacing what the tag named. A kernel the cache lacks
is built first. The artifact holds the boot image and what module builds need
(headers, generated files, scripts and their host tools, Module.symvers,
.config), not the object tree; its config is the kernel's metadata.json.

Credentials: the Docker config (docker login), and for ghcr.io GITHUB_TOKEN
(with GITHUB_ACTOR) when set.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := newRegistry(args[0], readEnv())
			if err != nil {
				return err
			}
			o, cells, err := c.options(cmd, "")
			if err != nil {
				return err
			}
			var all []map[string]any
			for _, cell := range cells {
				k, err := harness.Kernel(cmd.Context(), cellOptions(o, cell))
				if err != nil {
					return err
				}
				p, err := reg.Push(cmd.Context(), k.Dir)
				if err != nil {
					return err
				}
				if jsonOut {
					all = append(all, map[string]any{"ref": p.Ref, "digest": p.Digest, "key": k.Key, "release": k.Meta.KernelVersion,
						"arch": k.Meta.Arch, "size": p.Size, "unpacked": p.Raw, "files": p.Files, "layers": p.Layers, "seconds": p.Took.Seconds()})
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pushed linux %s %s to %s: %s compressed (%s unpacked, %d files, links and directories) in %.1fs\n",
					k.Meta.KernelVersion, k.Meta.Arch, p.Ref, mbs(p.Size), mbs(p.Raw), p.Files, p.Took.Seconds())
			}
			return printJSON(cmd, jsonOut, all)
		},
	}
	c.addTargetFlags(push)
	push.Flags().BoolVar(&jsonOut, "json", false, "print what was pushed as JSON (an array for several kernels)")
	return push
}

// newKernelPullCmd is 'lkmtest kernel pull REPO'.
func newKernelPullCmd(c *common) *cobra.Command {
	var jsonOut bool
	pull := &cobra.Command{
		Use:   "pull REPO",
		Short: "Pull kernels from an OCI registry into the cache (a no-op when cached; never builds)",
		Long: `Pull the kernel of every --kernel x --arch (with --flavour and --kconfig) from
the OCI repository REPO, by its cache key (computed as a build computes it,
without unpacking the source), into the cache. Every blob is checked against
its digest, the kernel against the artifact's metadata (key, arch, kernel
version: a tag naming another kernel is refused), and the entry is published
atomically, like a local build. A kernel already cached is not pulled; one the
registry lacks is an error: this command never builds.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := newRegistry(args[0], readEnv())
			if err != nil {
				return err
			}
			o, cells, err := c.options(cmd, "")
			if err != nil {
				return err
			}
			o.KernelRemote = kbuild.PullOnly{Remote: reg}
			var all []map[string]any
			for _, cell := range cells {
				t0 := time.Now()
				k, err := harness.Kernel(cmd.Context(), cellOptions(o, cell))
				if errors.Is(err, kbuild.ErrNotPulled) {
					return fmt.Errorf("kernel %s %s: %w", cell.Kernel, cell.Arch, err)
				}
				if err != nil {
					return err
				}
				if jsonOut {
					all = append(all, map[string]any{"dir": k.Dir, "image": k.Image, "build_dir": k.BuildDir, "key": k.Key,
						"cached": k.Pulled == "", "pulled": k.Pulled, "metadata": k.Meta})
					continue
				}
				if k.Pulled == "" {
					fmt.Fprintf(cmd.OutOrStdout(), "cached linux %s %s: nothing to pull\nbuild dir (for make -C ... M=): %s\n", k.Meta.KernelVersion, k.Meta.Arch, k.BuildDir)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pulled linux %s %s from %s (%.1fs in all)\nimage: %s\nbuild dir (for make -C ... M=): %s\n",
					k.Meta.KernelVersion, k.Meta.Arch, k.Pulled, time.Since(t0).Seconds(), k.Image, k.BuildDir)
			}
			return printJSON(cmd, jsonOut, all)
		},
	}
	c.addTargetFlags(pull)
	pull.Flags().BoolVar(&jsonOut, "json", false, "print the kernels as JSON (an array for several kernels)")
	return pull
}

func mbs(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// cellOptions are base's options for one cell's kernel and arch.
func cellOptions(base *harness.Options, cell harness.Cell) *harness.Options {
	o := *base
	o.Kernel, o.Arch = cell.Kernel, arch.Arch(cell.Arch)
	return &o
}

// printJSON prints all (its one element alone) when on.
func printJSON(cmd *cobra.Command, on bool, all []map[string]any) error {
	if !on {
		return nil
	}
	var v any = all
	if len(all) == 1 {
		v = all[0]
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}
