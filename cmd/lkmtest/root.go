package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/initramfs"
	"github.com/lkmtest/lkmtest/qemu"
)

// exitCode ends the program with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// The documented exit codes.
const (
	exitPass  exitCode = 0 // every test passed (or was skipped)
	exitFail  exitCode = 1 // a test failed, crashed, timed out or was lost
	exitUsage exitCode = 2 // usage or infrastructure error
)

// common holds the flags every command shares.
type common struct {
	cacheDir string
	verbose  bool
	arch     string
	kernel   string
	accel    string
	jobs     int
}

func newRootCmd() *cobra.Command {
	c := &common{}
	root := &cobra.Command{
		Use:   "lkmtest",
		Short: "Build, boot and test Linux kernel modules in QEMU",
		Long: `lkmtest builds a Linux LTS kernel and out-of-tree kernel modules, boots them in
QEMU with a u-root initramfs, loads the modules in the guest and checks the
kernel log against each test's spec (test.yaml beside the module).

Exit status: 0 all tests passed, 1 a test failed, 2 usage or infrastructure error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.cacheDir, "cache-dir", "", "cache directory (default $XDG_CACHE_HOME/lkmtest or ~/.cache/lkmtest)")
	pf.BoolVarP(&c.verbose, "verbose", "v", false, "show build output and the serial console")
	root.AddCommand(newRunCmd(c), newKernelCmd(c), newDoctorCmd(c), newVersionCmd())
	return root
}

// addTargetFlags adds --arch, --kernel and --accel.
func (c *common) addTargetFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.arch, "arch", "x86_64", "guest architecture: x86_64 or arm64")
	cmd.Flags().StringVar(&c.kernel, "kernel", "6.1", "kernel series: 6.1 or 6.12 (Debian linux-source)")
	cmd.Flags().StringVar(&c.accel, "accel", "auto", "accelerator: auto (KVM if a trial boot works, else TCG), kvm or tcg")
	cmd.Flags().IntVarP(&c.jobs, "jobs", "j", 0, "parallel make jobs for kernel builds (default: number of CPUs)")
}

// options turns the flags into pipeline options.
func (c *common) options(out string) (*harness.Options, error) {
	arch, err := qemu.ParseArch(c.arch)
	if err != nil {
		return nil, fmt.Errorf("--arch: %w", err)
	}
	if _, err := qemu.ParseAccelMode(c.accel); err != nil {
		return nil, err
	}
	cd, err := cache.Open(c.cacheDir)
	if err != nil {
		return nil, fmt.Errorf("--cache-dir: %w", err)
	}
	wd, _ := os.Getwd()
	return &harness.Options{
		Cache: cd, Arch: arch, Kernel: c.kernel, Accel: c.accel, Out: out, Jobs: c.jobs,
		Log: os.Stderr, Verbose: c.verbose, SrcRoot: initramfs.SourceRoot(wd),
	}, nil
}
