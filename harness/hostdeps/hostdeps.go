package hostdeps

import (
	_ "embed"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

//go:embed packages.txt
var packagesTxt string

// AnyHost is the host field of an entry every host needs.
const AnyHost = "any"

// Entry is one line of packages.txt.
type Entry struct {
	// Package is the Debian package.
	Package string
	// Host is the Debian architecture of the hosts that need it, or AnyHost.
	Host string
	// Command is the program the package provides, looked up on the PATH;
	// File, when Command is "", a file it installs (a glob pattern).
	Command, File string
	// What is what doctor calls it ("QEMU for arm64").
	What string
}

// NeededOn reports whether a host of Debian architecture debArch needs e.
func (e Entry) NeededOn(debArch string) bool { return e.Host == AnyHost || e.Host == debArch }

// Tool is the program or file e provides.
func (e Entry) Tool() string {
	if e.Command != "" {
		return e.Command
	}
	return e.File
}

// Find returns where e's program or file is on this host, or a
// *MissingTool.
func (e Entry) Find() (string, error) {
	if e.Command != "" {
		p, err := exec.LookPath(e.Command)
		if err != nil {
			return "", &MissingTool{Tool: e.Command, Package: e.Package, Err: err}
		}
		return p, nil
	}
	m, err := filepath.Glob(e.File)
	if err != nil || len(m) == 0 {
		return "", &MissingTool{Tool: e.File, Package: e.Package, Err: fs.ErrNotExist}
	}
	return m[0], nil
}

// Parse reads the packages.txt format: blank lines and lines starting
// with # are skipped; every other line is "package host provides what...",
// provides being cmd:NAME or file:PATTERN.
func Parse(text string) ([]Entry, error) {
	var out []Entry
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("packages.txt:%d: want \"package host provides what\", got %q", i+1, line)
		}
		e := Entry{Package: f[0], Host: f[1], What: strings.Join(f[3:], " ")}
		kind, target, _ := strings.Cut(f[2], ":")
		switch {
		case target == "":
			return nil, fmt.Errorf("packages.txt:%d: provides %q: want cmd:NAME or file:PATH", i+1, f[2])
		case kind == "cmd":
			e.Command = target
		case kind == "file":
			if _, err := filepath.Match(target, ""); err != nil {
				return nil, fmt.Errorf("packages.txt:%d: file pattern %q: %v", i+1, target, err)
			}
			e.File = target
		default:
			return nil, fmt.Errorf("packages.txt:%d: provides %q: want cmd:NAME or file:PATH", i+1, f[2])
		}
		out = append(out, e)
	}
	return out, nil
}

var all = sync.OnceValue(func() []Entry {
	entries, err := Parse(packagesTxt)
	if err != nil {
		panic("hostdeps: embedded " + err.Error())
	}
	return entries
})

// All returns every entry of packages.txt, in its order.
func All() []Entry { return append([]Entry(nil), all()...) }

// For returns the entries a host of Debian architecture debArch needs.
func For(debArch string) []Entry {
	var out []Entry
	for _, e := range all() {
		if e.NeededOn(debArch) {
			out = append(out, e)
		}
	}
	return out
}

// Packages lists the packages a host of Debian architecture debArch
// needs, each once, in the file's order: what 'make deps' installs there.
func Packages(debArch string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range For(debArch) {
		if !seen[e.Package] {
			seen[e.Package] = true
			out = append(out, e.Package)
		}
	}
	return out
}

// MissingTool is the error of a program or file lkmtest needs and this
// host lacks; its message says which package installs it.
type MissingTool struct {
	// Tool is the program or file ("qemu-system-aarch64",
	// "/usr/src/linux-source-6.1.tar.xz").
	Tool string
	// Package is the Debian package that installs it.
	Package string
	// Err is why it was not found (exec.ErrNotFound, fs.ErrNotExist...),
	// when known.
	Err error
	// Broken: the tool is there but does not work (its --version
	// failed, with Err): the package is to be reinstalled.
	Broken bool
}

func (e *MissingTool) Error() string {
	if e.Broken {
		return fmt.Sprintf("%s is installed but does not run (%v): reinstall it with 'apt-get install --reinstall %s'", e.Tool, e.Err, e.Package)
	}
	return fmt.Sprintf("%s not found: install it with 'apt-get install %s' (or run 'make deps')", e.Tool, e.Package)
}

func (e *MissingTool) Unwrap() error { return e.Err }
