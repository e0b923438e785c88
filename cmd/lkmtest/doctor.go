package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/qemu"
)

// check is one prerequisite: ok says whether it is there, pkg is the Debian
// package that provides it.
type check struct {
	what string
	ok   func() (string, bool)
	pkg  string
}

func haveCmd(name string) func() (string, bool) {
	return func() (string, bool) {
		p, err := exec.LookPath(name)
		return p, err == nil
	}
}

func haveFile(path string) func() (string, bool) {
	return func() (string, bool) {
		_, err := os.Stat(path)
		return path, err == nil
	}
}

func doctorChecks() []check {
	checks := []check{
		{"make", haveCmd("make"), "make"},
		{"gcc", haveCmd("gcc"), "gcc"},
		{"flex", haveCmd("flex"), "flex"},
		{"bison", haveCmd("bison"), "bison"},
		{"bc", haveCmd("bc"), "bc"},
		{"cpio", haveCmd("cpio"), "cpio"},
		{"xz", haveCmd("xz"), "xz-utils"},
		{"libelf headers", haveFile("/usr/include/gelf.h"), "libelf-dev"},
		{"OpenSSL headers", haveFile("/usr/include/openssl/ssl.h"), "libssl-dev"},
		{"Go toolchain (guest agent, u-root base image)", haveCmd("go"), "golang-go"},
		{"apt-get (downloads the guest's busybox-static once)", haveCmd("apt-get"), "apt"},
		{"dpkg-deb (unpacks the guest's busybox-static)", haveCmd("dpkg-deb"), "dpkg"},
	}
	for _, a := range arch.All() {
		spec := a.Spec()
		checks = append(checks, check{"QEMU for " + string(a), haveCmd(spec.QEMU), spec.DebianQEMU})
		if !a.Native() {
			checks = append(checks, check{"cross compiler for " + string(a), haveCmd(spec.CrossCompile + "gcc"), spec.DebianCross})
		}
	}
	for _, v := range kbuild.DebianVersions {
		checks = append(checks, check{"kernel source " + v, haveFile(kbuild.DebianTarball(v)), "linux-source-" + v})
	}
	return checks
}

func newDoctorCmd(c *common) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the host for everything lkmtest needs and print the fix for what is missing",
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			var missing []string
			for _, ch := range doctorChecks() {
				where, ok := ch.ok()
				if ok {
					fmt.Fprintf(w, "ok       %-48s %s\n", ch.what, where)
				} else {
					fmt.Fprintf(w, "MISSING  %-48s (Debian package %s)\n", ch.what, ch.pkg)
					missing = append(missing, ch.pkg)
				}
			}
			var other []string
			if src := sourceRoot(); src != "" {
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
