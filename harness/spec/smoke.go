package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A module directory without a test.yaml still runs: as a smoke test that
// builds it, loads every module in dependency order, unloads them in
// reverse and judges crash reports and taint. The steps depend on which
// modules the build produces, so the spec is written (as YAML, then parsed
// like any other) once they are built; `lkmtest init` writes the same
// spec, with the log lines of a run, as a starting point.

// SpecLess returns the placeholder spec of a module directory that has no
// test.yaml: named after the directory, with no steps yet (see Smoke).
func SpecLess(dir string) (*Spec, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("module directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file: give a module directory (with a Kbuild or Makefile) or a %s", dir, FileName)
	}
	if !HasBuildFile(dir) {
		return nil, fmt.Errorf("%s has no %s, and no Kbuild or Makefile to build a module from: run lkmtest new NAME to start one", dir, FileName)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Spec{Name: SmokeName(abs), File: filepath.Join(abs, FileName), Dir: abs, Modules: []string{"."}, SpecLess: true}
	s.Timeout = Duration(defaultTimeout)
	s.Boot.Memory, s.Boot.CPUs = 256, 1
	return s, nil
}

// HasBuildFile reports whether dir has a Kbuild or Makefile, or a
// dkms.conf (a DKMS package, built as DKMS builds it).
func HasBuildFile(dir string) bool {
	for _, n := range []string{"Kbuild", "Makefile", "makefile", "GNUmakefile", "dkms.conf"} {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

var notNameChar = regexp.MustCompile(`[^a-z0-9_.-]+`)

// SmokeName is a test name made from a directory's name.
func SmokeName(dir string) string {
	n := notNameChar.ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-")
	n = strings.TrimLeft(n, "-_.")
	if n == "" {
		return "module"
	}
	return n
}

// SmokeYAML is the spec of a smoke test: insmod of each module of order
// (load order), then rmmod in reverse. logs, when given, holds the kernel
// log lines each step printed on a real run (insmods first, then rmmods),
// written as exact patterns; header is a comment for the file's top.
func SmokeYAML(name, header string, order []string, logs [][]string) []byte {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		fmt.Fprintf(&b, "# %s\n", l)
	}
	fmt.Fprintf(&b, "name: %s\n", name)
	b.WriteString("description: loads every module of the directory in dependency order, then unloads them\n")
	b.WriteString("# A module under a license other than GPL taints the kernel P, and a KUnit\n")
	b.WriteString("# module's tests N: neither is a bug of the module.\n")
	b.WriteString("taint: [P, N]\n")
	b.WriteString("steps:\n")
	step := 0
	write := func(kind, mod string) {
		fmt.Fprintf(&b, "  - %s: %s\n", kind, mod)
		if step < len(logs) && len(logs[step]) > 0 {
			b.WriteString("    log:\n")
			for _, l := range logs[step] {
				fmt.Fprintf(&b, "      - '%s'\n", strings.ReplaceAll("^"+exactPattern(l)+"$", "'", "''"))
			}
		}
		step++
	}
	for _, m := range order {
		write("insmod", m)
	}
	for i := len(order) - 1; i >= 0; i-- {
		write("rmmod", order[i])
	}
	return []byte(b.String())
}

// Smoke parses the smoke test of placeholder p for modules in load order
// and returns it with its YAML.
func Smoke(p *Spec, order []string) (*Spec, []byte, error) {
	text := SmokeYAML(p.Name, "smoke test written by lkmtest: "+p.Dir+" has no "+FileName, order, nil)
	s, err := Parse(p.File, text)
	if err != nil {
		return nil, nil, err
	}
	s.SpecLess = true
	return s, text, nil
}

// exactPattern is a regular expression matching exactly line, written with
// printable characters only (a YAML file may hold no control characters,
// and line breaks inside a scalar fold): other runes, and bytes that are
// not UTF-8 (which Go's regexp matches as U+FFFD), become \x{...}.
func exactPattern(line string) string {
	var b strings.Builder
	for _, r := range line {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\x{fffd}`)
		case r == ' ' || (unicode.IsPrint(r) && r != '\u2028' && r != '\u2029' && r != '\u0085'):
			b.WriteString(regexp.QuoteMeta(string(r)))
		default:
			fmt.Fprintf(&b, `\x{%x}`, r)
		}
	}
	return b.String()
}
