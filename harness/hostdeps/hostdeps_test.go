package hostdeps

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// packages.txt parses, and each (package, host) pair has one line.
func TestEmbedded(t *testing.T) {
	entries := All()
	if len(entries) < 10 {
		t.Fatalf("All() = %d entries, want the whole list", len(entries))
	}
	hosts := map[string][]string{}
	for _, e := range entries {
		if e.Tool() == "" || e.What == "" {
			t.Errorf("%+v: needs a program or file and a description", e)
		}
		if e.Host != AnyHost && e.Host != "amd64" && e.Host != "arm64" {
			t.Errorf("%s: host %q: want any, amd64 or arm64", e.Package, e.Host)
		}
		hosts[e.Package] = append(hosts[e.Package], e.Host)
	}
	for p, h := range hosts {
		if len(h) > 1 && (slices.Contains(h, AnyHost) || len(slices.Compact(slices.Sorted(slices.Values(h)))) != len(h)) {
			t.Errorf("%s is listed twice for a host: %v", p, h)
		}
	}
}

func TestParse(t *testing.T) {
	got, err := Parse("# comment\n\nmake any cmd:make make\nlibelf-dev amd64 file:/usr/include/gelf.h libelf   headers\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Package: "make", Host: "any", Command: "make", What: "make"},
		{Package: "libelf-dev", Host: "amd64", File: "/usr/include/gelf.h", What: "libelf headers"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		"make any cmd:make",            // no description
		"make any make make",           // provides without a kind
		"make any exe:make make",       // unknown kind
		"make any cmd: make",           // empty target
		"x any file:/usr/[include x",   // bad glob
		"ok any cmd:ok ok\nmake any\n", // the second line
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", bad)
		}
	}
	if _, err := Parse("ok any cmd:ok ok\nmake any\n"); err == nil || !strings.Contains(err.Error(), "packages.txt:2:") {
		t.Errorf("Parse error %v does not name line 2", err)
	}
}

// Each host gets its own cross compiler and C libraries, never the other's.
func TestFor(t *testing.T) {
	for _, tc := range []struct {
		host      string
		want, not []string
	}{
		{"amd64", []string{"make", "libc6-dev", "qemu-system-arm", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "linux-source-6.1", "kmod", "tar"},
			[]string{"gcc-x86-64-linux-gnu", "libc6-dev-amd64-cross"}},
		{"arm64", []string{"make", "libc6-dev", "qemu-system-x86", "gcc-x86-64-linux-gnu", "libc6-dev-amd64-cross"},
			[]string{"gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"}},
	} {
		pkgs := Packages(tc.host)
		for _, p := range tc.want {
			if !slices.Contains(pkgs, p) {
				t.Errorf("Packages(%s) = %v, lacks %s", tc.host, pkgs, p)
			}
		}
		for _, p := range tc.not {
			if slices.Contains(pkgs, p) {
				t.Errorf("Packages(%s) = %v, has %s", tc.host, pkgs, p)
			}
		}
		var libc []string
		for _, e := range For(tc.host) {
			if e.Package == "libc6-dev" {
				libc = append(libc, e.File)
			}
		}
		if len(libc) != 1 || !strings.Contains(libc[0], map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[tc.host]) {
			t.Errorf("For(%s): libc6-dev checks %v, want the host's own libc.a", tc.host, libc)
		}
	}
}

func TestFind(t *testing.T) {
	if p, err := (Entry{Package: "dash", Command: "sh"}).Find(); err != nil || filepath.Base(p) != "sh" {
		t.Errorf("Find(sh) = %q, %v", p, err)
	}
	_, err := Entry{Package: "nope", Command: "lkmtest-no-such-tool"}.Find()
	var m *MissingTool
	if !errors.As(err, &m) || m.Tool != "lkmtest-no-such-tool" || m.Package != "nope" || !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Find(missing program) = %v, want a MissingTool wrapping exec.ErrNotFound", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "libc.a"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := (Entry{Package: "libc6-dev", File: filepath.Join(dir, "x*.a")}).Find(); err == nil {
		t.Errorf("Find(pattern with no match) = %q, want an error", p)
	}
	if p, err := (Entry{Package: "libc6-dev", File: filepath.Join(dir, "lib*.a")}).Find(); err != nil || p != filepath.Join(dir, "libc.a") {
		t.Errorf("Find(glob) = %q, %v", p, err)
	}
	_, err = Entry{Package: "libc6-dev", File: filepath.Join(dir, "missing.a")}.Find()
	if !errors.As(err, &m) || m.Tool != filepath.Join(dir, "missing.a") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Find(missing file) = %v, want a MissingTool wrapping fs.ErrNotExist", err)
	}
}

func TestMissingToolError(t *testing.T) {
	err := error(&MissingTool{Tool: "qemu-system-aarch64", Package: "qemu-system-arm", Err: exec.ErrNotFound})
	want := "qemu-system-aarch64 not found: install it with 'apt-get install qemu-system-arm' (or run 'make deps')"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("MissingTool does not unwrap to its Err")
	}
	broken := &MissingTool{Tool: "aarch64-linux-gnu-gcc", Package: "gcc-aarch64-linux-gnu", Err: errors.New("exit status 1"), Broken: true}
	if want := "aarch64-linux-gnu-gcc is installed but does not run (exit status 1): reinstall it with 'apt-get install --reinstall gcc-aarch64-linux-gnu'"; broken.Error() != want {
		t.Errorf("Error() = %q, want %q", broken.Error(), want)
	}
}

// 'make deps' installs exactly packages.txt's packages for the host: the
// recipe make would run (-n) names each of them and no other host's.
func TestMakeDepsReadsPackagesTxt(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, host := range []string{"amd64", "arm64"} {
		cmd := exec.Command("make", "-n", "-C", filepath.Join("..", ".."), "deps", "DEBARCH="+host)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n deps: %v\n%s", err, out)
		}
		_, loop, ok := strings.Cut(string(out), "for p in ")
		loop, _, _ = strings.Cut(loop, ";")
		if !ok {
			t.Fatalf("make -n deps prints no package loop:\n%s", out)
		}
		if got, want := strings.Fields(loop), Packages(host); !slices.Equal(got, want) {
			t.Errorf("make deps on %s installs %v, packages.txt lists %v", host, got, want)
		}
	}
}
