package main

import (
	"errors"
	"fmt"
	goversion "go/version"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/qemu"
)

// check is one prerequisite: find says where it is, or why it is not
// there; pkg is the Debian package that provides it.
type check struct {
	what string
	find func() (string, error)
	pkg  string
}

// doctorChecks are the entries of harness/hostdeps/packages.txt this host
// needs: the packages 'make deps' installs.
func doctorChecks() []check {
	debArch := ""
	if h, err := arch.Host(); err == nil {
		debArch = h.Spec().Debian
	}
	var checks []check
	for _, e := range hostdeps.For(debArch) {
		if series, ok := strings.CutPrefix(e.Package, "linux-source-"); ok {
			// kbuild reads the tarball where $LKMTEST_DEBIAN_SRC says.
			e.File = kbuild.DebianTarball(readEnv().debianSrc, series)
		}
		checks = append(checks, check{e.What, e.Find, e.Package})
	}
	return checks
}

// goCheckName is the Go toolchain's line in doctor's output.
const goCheckName = "Go toolchain (guest agent, u-root base image)"

// checkGo finds the go on the PATH and, in a source tree, compares its
// version with the go line of srcRoot's go.mod. It returns what to print
// after "ok", or why Go will not do.
func checkGo(srcRoot string) (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("no go on the PATH")
	}
	cmd := exec.Command(p, "env", "GOVERSION")
	// The installed toolchain, not one go.mod would make it download.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s env GOVERSION: %v", p, err)
	}
	have := strings.TrimSpace(string(out))
	if srcRoot == "" {
		return fmt.Sprintf("%s %s", p, have), nil
	}
	want, err := goModGo(filepath.Join(srcRoot, "go.mod"))
	if err != nil {
		return "", err
	}
	if err := goNewEnough(have, want); err != nil {
		return "", fmt.Errorf("%s is %w", p, err)
	}
	return fmt.Sprintf("%s %s (go.mod: go %s)", p, have, want), nil
}

// goModGo is the version of the go line of a go.mod file ("1.26.8").
func goModGo(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s has no go line", path)
}

// goNewEnough checks a toolchain version as go env GOVERSION prints it
// ("go1.19.8") against a go line's version ("1.26.8").
func goNewEnough(have, want string) error {
	if !goversion.IsValid(have) {
		return fmt.Errorf("%q, not a Go release version", have)
	}
	if goversion.Compare(have, "go"+want) < 0 {
		return fmt.Errorf("%s, older than the go %s of go.mod", have, want)
	}
	return nil
}

func newDoctorCmd(c *common) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the host for everything lkmtest needs and print the fix for what is missing",
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			var missing []string
			for _, ch := range doctorChecks() {
				if where, err := ch.find(); err == nil {
					fmt.Fprintf(w, "ok       %-48s %s\n", ch.what, where)
				} else {
					fmt.Fprintf(w, "MISSING  %-48s (Debian package %s)\n", ch.what, ch.pkg)
					if !slices.Contains(missing, ch.pkg) {
						missing = append(missing, ch.pkg)
					}
				}
			}
			var other []string
			src := sourceRoot(readEnv().src)
			if where, err := checkGo(src); err == nil {
				fmt.Fprintf(w, "ok       %-48s %s\n", goCheckName, where)
			} else {
				fmt.Fprintf(w, "MISSING  %-48s %v\n", goCheckName, err)
				other = append(other, goFix(src))
			}
			if src != "" {
				fmt.Fprintf(w, "ok       %-48s %s\n", "lkmtest source tree (agent, u-root image)", src)
			} else {
				fmt.Fprintf(w, "MISSING  %-48s\n", "lkmtest source tree (agent, u-root image)")
				other = append(other, "run the bin/lkmtest of a checkout (make build), or set LKMTEST_SRC to the checkout")
			}
			if root, err := writableCache(c.cacheDir); err != nil {
				fmt.Fprintf(w, "MISSING  %-48s %v\n", "writable cache directory", err)
				other = append(other, "give --cache-dir a directory on a writable disk with a few GB free")
			} else {
				fmt.Fprintf(w, "ok       %-48s %s\n", "writable cache directory", root)
			}
			for _, a := range arch.All() {
				if err := qemu.KVMUsable(a); err != nil {
					fmt.Fprintf(w, "info     accelerator for %-32s TCG (KVM not usable: %v)\n", a, err)
				} else {
					fmt.Fprintf(w, "info     accelerator for %-32s KVM passes the cheap checks; 'run --accel auto' confirms it with a trial boot\n", a)
				}
			}
			if len(missing) > 0 {
				fmt.Fprintf(w, "\nfix: apt-get install -y %s   (or: make deps)\n", strings.Join(missing, " "))
			}
			for _, o := range other {
				fmt.Fprintf(w, "fix: %s\n", o)
			}
			if len(missing) > 0 || len(other) > 0 {
				return exitUsage
			}
			fmt.Fprintln(w, "\nall prerequisites are installed")
			return nil
		},
	}
}

// goFix is the fix line of a missing or old Go toolchain.
func goFix(srcRoot string) string {
	want, err := goModGo(filepath.Join(srcRoot, "go.mod"))
	if srcRoot == "" || err != nil {
		return "install Go from https://go.dev/dl/ and put its bin directory on the PATH"
	}
	return fmt.Sprintf("install Go %s or newer from https://go.dev/dl/ and put its bin directory on the PATH", want)
}

// writableCache opens the cache directory and checks that it takes a file.
func writableCache(dir string) (string, error) {
	c, err := cache.Open(dir)
	if err != nil {
		return dir, err
	}
	f, err := os.CreateTemp(c.Root, ".doctor-*")
	if err != nil {
		return c.Root, err
	}
	f.Close()
	return c.Root, os.Remove(f.Name())
}
