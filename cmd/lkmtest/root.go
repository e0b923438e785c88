package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/initramfs"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
	"github.com/lkmtest/lkmtest/qemu"
)

// exitCode ends the program with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// The documented exit codes.
const (
	exitPass    exitCode = 0 // every test that ran passed, and one did
	exitFail    exitCode = 1 // a test failed, crashed, timed out or was lost
	exitUsage   exitCode = 2 // usage or infrastructure error
	exitNoTests exitCode = 3 // no test ran: every selected test was skipped
)

// verdictExit is the exit status of a run's (or a merge's) totals: a CI
// job in which every test was skipped ran nothing, and must not look green.
func verdictExit(w io.Writer, ok bool, passed, skipped int) error {
	switch {
	case !ok:
		return exitFail
	case passed == 0:
		fmt.Fprintf(w, "lkmtest: no test ran (%d skipped): exit status %d\n", skipped, int(exitNoTests))
		return exitNoTests
	}
	return nil
}

// common holds the flags every command shares.
type common struct {
	cacheDir string
	verbose  bool
	arch     string
	kernel   string
	accel    string
	jobs     int
	// kernelSrc and kernelSHA are --kernel-src and --kernel-sha256.
	kernelSrc, kernelSHA string
	// kconfig are the --kconfig fragments.
	kconfig []string
	// flavour is --flavour.
	flavour string
	// kernelRegistry is --kernel-registry (run, kernel build).
	kernelRegistry string
}

func newRootCmd() *cobra.Command {
	c := &common{}
	root := &cobra.Command{
		Use:   "lkmtest",
		Short: "Build, boot and test Linux kernel modules in QEMU",
		Long: `lkmtest builds a Linux LTS kernel and out-of-tree kernel modules, boots them in
QEMU with a u-root initramfs, loads the modules in the guest and checks the
kernel log against each test's spec (test.yaml beside the module).

Exit status: 0 all tests passed, 1 a test failed, 2 usage or infrastructure error,
3 no test ran (every selected test was skipped), 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.cacheDir, "cache-dir", "", "cache directory (default $XDG_CACHE_HOME/lkmtest or ~/.cache/lkmtest)")
	pf.BoolVarP(&c.verbose, "verbose", "v", false, "show build output and the serial console")
	root.AddCommand(newRunCmd(c), newBuildCmd(c), newKernelCmd(c), newNewCmd(), newInitCmd(c), newListCmd(), newVerdictCmd(), newShellCmd(c), newMatrixCmd(&common{}), newMergeCmd(), newDoctorCmd(c), newVersionCmd(), newStandbyCmd(), newPCHCmd())
	return root
}

// addTargetFlags adds --arch, --kernel, --kernel-src, --kernel-sha256,
// --accel and -j.
func (c *common) addTargetFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.arch, "arch", "x86_64", "guest architectures, comma-separated: x86_64, arm64")
	f.StringVar(&c.kernel, "kernel", "6.1", "kernels, comma-separated: a Debian series (6.1, 6.12) or a kernel.org release X.Y.Z (e.g. 5.4.302)")
	f.StringVar(&c.kernelSrc, "kernel-src", "", "build this local kernel tree (out of tree, never modified) instead of --kernel")
	f.StringVar(&c.kernelSHA, "kernel-sha256", "", "sha256 of the kernel.org tarball of --kernel (default: the pinned table)")
	f.StringArrayVar(&c.kconfig, "kconfig", nil, "extra kernel config fragment for the whole run (repeatable; part of the kernel's cache key)")
	f.StringVar(&c.flavour, "flavour", "", "bug-finding kernel, comma-separated flavours combined in one kernel: "+strings.Join(kernelconfigs.FlavourNames(), ", ")+" (cells become 6.1.192-x86_64+kasan...)")
	f.StringVar(&c.accel, "accel", "auto", "accelerator: auto (KVM if a trial boot works, else TCG), kvm or tcg")
	f.IntVarP(&c.jobs, "jobs", "j", 0, "parallel make jobs (default: number of CPUs) and parallel test VMs (default: one more)")
}

// cells turns --kernel and --arch (comma-separated lists) into the run's
// (kernel, arch) combinations, kernel-major.
func (c *common) cells(cmd *cobra.Command) ([]harness.Cell, error) {
	var archs []arch.Arch
	for _, a := range splitList(c.arch) {
		arch, err := arch.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("--arch: %w", err)
		}
		archs = append(archs, arch)
	}
	kernels := splitList(c.kernel)
	if c.kernelSrc != "" {
		if cmd.Flags().Changed("kernel") {
			return nil, fmt.Errorf("--kernel and --kernel-src exclude each other: --kernel-src builds the tree it names")
		}
		kernels = []string{"local"}
	}
	if len(archs) == 0 || len(kernels) == 0 {
		return nil, fmt.Errorf("--arch and --kernel need at least one value")
	}
	if c.kernelSHA != "" && len(kernels) != 1 {
		return nil, fmt.Errorf("--kernel-sha256 applies to one kernel.org release: give a single --kernel")
	}
	for _, k := range kernels {
		if err := (kbuild.SourceRequest{Kernel: k, Local: c.kernelSrc, SHA256: c.kernelSHA}).Check(); err != nil {
			return nil, err
		}
	}
	var out []harness.Cell
	for _, k := range kernels {
		for _, a := range archs {
			out = append(out, harness.NewCell(k, a))
		}
	}
	return out, nil
}

// splitList splits a comma-separated flag value, dropping empty items and
// duplicates.
func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// options turns the flags into pipeline options and the run's cells; the
// options' Kernel and Arch are those of the first cell.
func (c *common) options(cmd *cobra.Command, out string) (*harness.Options, []harness.Cell, error) {
	cells, err := c.cells(cmd)
	if err != nil {
		return nil, nil, err
	}
	if _, err := qemu.ParseAccelMode(c.accel); err != nil {
		return nil, nil, err
	}
	cd, err := cache.Open(c.cacheDir)
	if err != nil {
		return nil, nil, fmt.Errorf("--cache-dir: %w", err)
	}
	var extra []kbuild.Fragment
	for _, k := range c.kconfig {
		frag, err := harness.ReadFragment(k)
		if err != nil {
			return nil, nil, fmt.Errorf("--kconfig: %w", err)
		}
		extra = append(extra, frag)
	}
	flavours, err := kernelconfigs.ParseFlavours(c.flavour)
	if err != nil {
		return nil, nil, fmt.Errorf("--flavour: %w", err)
	}
	for _, f := range flavours {
		frag, err := harness.ReadFragment(kernelconfigs.Prefix + f.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("--flavour: %w", err)
		}
		extra = append(extra, frag)
	}
	env := readEnv()
	remote, err := c.kernelRemote(env)
	if err != nil {
		return nil, nil, err
	}
	return &harness.Options{
		Extra: extra,
		Cache: cd, Arch: arch.Arch(cells[0].Arch), Kernel: cells[0].Kernel, KernelSrc: c.kernelSrc, KernelSHA256: c.kernelSHA,
		Accel: c.accel, Out: out, Jobs: c.jobs, VMs: c.jobs,
		Log: os.Stderr, Verbose: c.verbose, SrcRoot: sourceRoot(env.src),
		KernelMirror: env.kernelMirror, DebianSrc: env.debianSrc, AgentDir: env.agentDir,
		NoSnapshots: env.noSnapshot, NoProbeMemo: env.noProbeMemo, PCH: pchCompiler(env),
		Variant: kernelconfigs.VariantOf(flavours), KernelRemote: remote,
	}, cells, nil
}

// sourceRoot finds lkmtest's source tree (the guest agent and the u-root
// image are built from it): src ($LKMTEST_SRC), else the working directory or one
// above it, else the checkout the running binary was built in (make puts it
// in <checkout>/bin), so that a module repository can run a checkout's
// bin/lkmtest from its own directory.
func sourceRoot(src string) string {
	if src != "" {
		return initramfs.SourceRoot(src)
	}
	if wd, err := os.Getwd(); err == nil {
		if d := initramfs.SourceRoot(wd); d != "" {
			return d
		}
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			return initramfs.SourceRoot(filepath.Dir(exe))
		}
	}
	return ""
}
