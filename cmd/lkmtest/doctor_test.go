package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/kbuild"
)

// doctor checks what 'make deps' installs: hostdeps' packages for this
// host, among them those doctor used to forget.
func TestDoctorChecksHostdeps(t *testing.T) {
	h, err := arch.Host()
	if err != nil {
		t.Skip(err)
	}
	var pkgs []string
	for _, c := range doctorChecks() {
		if !slices.Contains(pkgs, c.pkg) {
			pkgs = append(pkgs, c.pkg)
		}
	}
	if want := hostdeps.Packages(h.Spec().Debian); !slices.Equal(pkgs, want) {
		t.Errorf("doctor checks %v, make deps installs %v", pkgs, want)
	}
	for _, p := range []string{"libc6-dev", "kmod", "tar", h.LibcPackage(), h.CompilerPackage()} {
		if !slices.Contains(pkgs, p) {
			t.Errorf("doctor does not check %s", p)
		}
	}
	for _, a := range arch.All() {
		if !a.Native() && !slices.Contains(pkgs, a.LibcPackage()) {
			t.Errorf("doctor does not check %s, the C library of %s helpers", a.LibcPackage(), a)
		}
	}
	if slices.Contains(pkgs, "golang-go") {
		t.Errorf("doctor suggests golang-go")
	}
}

// packages.txt and the arch table name the same packages for the same
// programs, on every host the table knows: the hints of the stages (from
// the table) and doctor (from the list) agree.
func TestHostdepsMatchArchTable(t *testing.T) {
	provides := func(host, pkg string) []string {
		var out []string
		for _, e := range hostdeps.For(host) {
			if e.Package == pkg {
				out = append(out, e.Tool())
			}
		}
		return out
	}
	for _, host := range arch.All() {
		deb := host.Spec().Debian
		if got := provides(deb, "gcc"); !slices.Equal(got, []string{"gcc"}) {
			t.Errorf("host %s: gcc provides %v", deb, got)
		}
		if got := provides(deb, "libc6-dev"); len(got) != 1 {
			t.Errorf("host %s: libc6-dev provides %v, want the host's libc.a", deb, got)
		}
		for _, a := range arch.All() {
			s := a.Spec()
			if got := provides(deb, s.DebianQEMU); !slices.Equal(got, []string{s.QEMU}) {
				t.Errorf("host %s: %s provides %v, the arch table says %s", deb, s.DebianQEMU, got, s.QEMU)
			}
			if a == host {
				if got := provides(deb, s.DebianCross); got != nil {
					t.Errorf("host %s: its own arch's cross compiler %s is listed", deb, s.DebianCross)
				}
				continue
			}
			if got := provides(deb, s.DebianCross); !slices.Equal(got, []string{s.CrossCC}) {
				t.Errorf("host %s: %s provides %v, the arch table says %s", deb, s.DebianCross, got, s.CrossCC)
			}
			if got := provides(deb, s.DebianCrossLibc); len(got) != 1 || !strings.HasSuffix(got[0], "/libc.a") {
				t.Errorf("host %s: %s provides %v, want its libc.a", deb, s.DebianCrossLibc, got)
			}
		}
	}
}

// Every Debian series kbuild knows has its source package in the list, at
// the path kbuild reads; doctor looks where $LKMTEST_DEBIAN_SRC says.
func TestDoctorKernelSources(t *testing.T) {
	t.Setenv("LKMTEST_DEBIAN_SRC", "")
	for _, v := range kbuild.DebianVersions {
		var files []string
		for _, e := range hostdeps.All() {
			if e.Package == "linux-source-"+v {
				files = append(files, e.File)
			}
		}
		if !slices.Equal(files, []string{kbuild.DebianTarball("", v)}) {
			t.Errorf("linux-source-%s provides %v, kbuild reads %s", v, files, kbuild.DebianTarball("", v))
		}
	}
	dir := t.TempDir()
	t.Setenv("LKMTEST_DEBIAN_SRC", dir)
	if err := os.WriteFile(filepath.Join(dir, "linux-source-6.1.tar.xz"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, c := range doctorChecks() {
		if strings.HasPrefix(c.pkg, "linux-source-") {
			where, err := c.find()
			found[c.pkg] = where
			if err != nil {
				found[c.pkg] = "missing"
			}
		}
	}
	if found["linux-source-6.1"] != filepath.Join(dir, "linux-source-6.1.tar.xz") || found["linux-source-6.12"] != "missing" {
		t.Errorf("with LKMTEST_DEBIAN_SRC=%s doctor found %v", dir, found)
	}
}

func TestGoNewEnough(t *testing.T) {
	for _, tc := range []struct {
		have, want string
		ok         bool
	}{
		{"go1.26.8", "1.26.8", true},
		{"go1.26.9", "1.26.8", true},
		{"go1.27rc1", "1.26.8", true},
		{"go1.27.0", "1.26.8", true},
		{"go1.26.7", "1.26.8", false},
		{"go1.19.8", "1.26.8", false}, // Debian 12's golang-go
		{"go1.9", "1.26.8", false},
		{"devel go1.27-abcdef", "1.26.8", false},
	} {
		if err := goNewEnough(tc.have, tc.want); (err == nil) != tc.ok {
			t.Errorf("goNewEnough(%q, %q) = %v, want ok=%v", tc.have, tc.want, err, tc.ok)
		}
	}
}

func TestGoModGo(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(p, []byte("module x\n\ngo 1.26.8\n\ntoolchain go1.27.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := goModGo(p); v != "1.26.8" || err != nil {
		t.Errorf("goModGo = %q, %v, want 1.26.8", v, err)
	}
	if err := os.WriteFile(p, []byte("module x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := goModGo(p); err == nil {
		t.Errorf("goModGo of a go.mod without a go line = %q, want an error", v)
	}
	// The fix names go.mod's version and where to get it, never Debian's
	// golang-go.
	if err := os.WriteFile(p, []byte("module x\n\ngo 1.26.8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{dir, ""} {
		fix := goFix(src)
		if !strings.Contains(fix, "https://go.dev/dl/") || strings.Contains(fix, "golang-go") || src != "" && !strings.Contains(fix, "Go 1.26.8 or newer") {
			t.Errorf("goFix(%q) = %q", src, fix)
		}
	}
}
