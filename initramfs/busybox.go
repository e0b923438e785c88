package initramfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// The guest's everyday tools with GNU-compatible flags and exit statuses
// (grep -E -q -w -v -c, awk, sed, cut, ls failing on a missing path,
// taskset, chrt...) come from Debian's busybox-static package for the
// guest's arch, on top of u-root's commands: u-root stays the base, and
// these applets, installed in /bin, come first on the PATH. /bin/sh (and
// bash) is busybox's ash.

// BusyboxPackage is the Debian package the guest tools come from.
const BusyboxPackage = "busybox-static"

// BusyboxApplets are the commands taken from busybox instead of u-root (or
// that u-root lacks). chrt, which Debian's busybox lacks, is lkmtest's own
// (child/chrt.c).
var BusyboxApplets = []string{
	"awk", "basename", "cut", "diff", "dirname", "egrep", "env", "expr", "fgrep", "grep",
	"head", "ls", "nproc", "od", "printf", "sed", "seq", "sort", "stat", "tac", "tail", "taskset",
	"test", "tr", "uniq", "wc",
}

// debianArch is Debian's name for a guest arch.
func debianArch(a arch.Arch) string { return a.Spec().Debian }

// Busybox returns the static busybox binary of Debian's busybox-static
// package for arch, downloaded once with apt-get into the cache (a private
// apt state: the host's package lists and architectures are not touched)
// and unpacked with dpkg-deb.
func Busybox(ctx context.Context, c Store, arch arch.Arch, log io.Writer) (string, error) {
	deb := debianArch(arch)
	k := c.Key("busybox/v1", deb)
	dir, _, err := c.Ensure(ctx, "busybox", k, func(ctx context.Context, tmp string) error {
		fmt.Fprintf(log, "downloading Debian's %s for %s (the guest's grep, awk, sed...; once)\n", BusyboxPackage, deb)
		state := filepath.Join(tmp, "apt")
		for _, d := range []string{"lists/partial", "cache/archives/partial"} {
			if err := os.MkdirAll(filepath.Join(state, d), 0o755); err != nil {
				return err
			}
		}
		opts := []string{"-q", "-o", "Dir::State::Lists=" + filepath.Join(state, "lists"), "-o", "Dir::Cache=" + filepath.Join(state, "cache"),
			"-o", "APT::Architecture=" + deb, "-o", "APT::Architectures::=" + deb, "-o", "Debug::NoLocking=1"}
		if list := portsSources(deb); list != "" {
			// Ubuntu serves other arches than amd64 from its ports
			// archive, which the host's sources do not name.
			p := filepath.Join(state, "sources.list")
			if err := os.WriteFile(p, []byte(list), 0o644); err != nil {
				return err
			}
			opts = append(opts, "-o", "Dir::Etc::SourceList="+p, "-o", "Dir::Etc::SourceParts=/nonexistent")
		}
		aptRun := func(args ...string) error {
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, "apt-get", append(append([]string{}, opts...), args...)...)
			cmd.Dir, cmd.Stdout, cmd.Stderr = tmp, &out, &out
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
			}
			return nil
		}
		if _, err := exec.LookPath("apt-get"); err != nil {
			final := c.Path("busybox", k)
			return fmt.Errorf("the guest tools come from Debian's %s package, and this host has no apt-get: unpack the package's bin/busybox for %s as %s and create the empty file %s",
				BusyboxPackage, deb, filepath.Join(final, "busybox"), filepath.Join(final, ".complete"))
		}
		if err := aptRun("update"); err != nil {
			return fmt.Errorf("the guest tools (Debian's %s for %s): %w", BusyboxPackage, deb, err)
		}
		if err := aptRun("download", BusyboxPackage+":"+deb); err != nil {
			return fmt.Errorf("the guest tools (Debian's %s for %s): %w", BusyboxPackage, deb, err)
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, BusyboxPackage+"_*_"+deb+".deb"))
		if len(debs) != 1 {
			return fmt.Errorf("apt-get download %s:%s left %d packages", BusyboxPackage, deb, len(debs))
		}
		x := filepath.Join(tmp, "x")
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], x).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, out)
		}
		b, err := os.ReadFile(filepath.Join(x, "bin", "busybox"))
		if err != nil {
			return fmt.Errorf("%s has no bin/busybox: %w", debs[0], err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "busybox"), b, 0o755); err != nil {
			return err
		}
		_ = os.WriteFile(filepath.Join(tmp, "package"), []byte(filepath.Base(debs[0])+"\n"), 0o644)
		for _, p := range []string{state, x, debs[0]} {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "busybox"), nil
}

// portsSources is the apt source list of Ubuntu's ports archive for a
// Debian arch other than amd64 and i386 on an Ubuntu host ("" elsewhere:
// Debian's mirrors carry every arch).
func portsSources(deb string) string {
	if deb == "amd64" || deb == "i386" {
		return ""
	}
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			fields[k] = strings.Trim(v, `"'`)
		}
	}
	c := fields["UBUNTU_CODENAME"] // Ubuntu's derivatives (Mint, Pop!_OS) name it
	if c == "" && fields["ID"] == "ubuntu" {
		c = fields["VERSION_CODENAME"]
	}
	if c == "" {
		return ""
	}
	return fmt.Sprintf("deb [arch=%s] http://ports.ubuntu.com/ubuntu-ports %s main universe\ndeb [arch=%s] http://ports.ubuntu.com/ubuntu-ports %s-updates main universe\n", deb, c, deb, c)
}
