package modbuild

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ModuleBuildError is a module directory of which no module compiled;
// Output holds the build's messages with paths of the user's tree.
type ModuleBuildError struct {
	// Dir is the module's source directory.
	Dir string
	// Output is the build output.
	Output string
	// FirstError is the first compiler or linker error line ("" when none
	// was recognised).
	FirstError string
	// Err is the make failure.
	Err error
}

func (e *ModuleBuildError) Error() string {
	if e.FirstError != "" {
		return fmt.Sprintf("build module %s: %s (full log: build.log)", e.Dir, e.FirstError)
	}
	lines := strings.Split(strings.TrimRight(e.Output, "\n"), "\n")
	if len(lines) > 10 {
		lines = append([]string{"(last 10 lines; full log: build.log)"}, lines[len(lines)-10:]...)
	}
	return fmt.Sprintf("build module %s: %v\n%s", e.Dir, e.Err, strings.Join(lines, "\n"))
}

func (e *ModuleBuildError) Unwrap() error { return e.Err }

// noModules is the error of a directory of tree whose build (output, its
// first error, make's error) made no module.
func noModules(tree ModuleTree, output, first string, makeErr error) *ModuleBuildError {
	e := &ModuleBuildError{Dir: tree.Dir, Output: output, FirstError: first, Err: makeErr}
	if makeErr == nil {
		e.Err = fmt.Errorf("no .ko produced: does its Kbuild or Makefile set obj-m (obj-m += name.o)?")
	}
	if hint := outsideHint(e.Output, tree); hint != "" {
		e.FirstError += "; " + hint
	}
	return e
}

// FirstCompilerError is the first compiler, modpost or make error line of
// a build log ("" when there is none).
func FirstCompilerError(log string) string {
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(l)
		if compilerError.MatchString(l) {
			return l
		}
	}
	return ""
}

// errorsByFile maps the base name of each source file with a compiler
// error ("x86_only" for x86_only.c) to its first error.
func errorsByFile(log string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(l)
		if f, _, _, ok := CompilerErrorLocation(l); ok {
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			if _, seen := out[name]; !seen {
				out[name] = l
			}
		}
	}
	return out
}

// CompilerErrorLocation splits a compiler error line into its file, line
// and message; ok is false when the line names no source position.
func CompilerErrorLocation(line string) (file string, lineNo int, msg string, ok bool) {
	m := compilerErrorPos.FindStringSubmatch(line)
	if m == nil {
		return "", 0, "", false
	}
	n, _ := strconv.Atoi(m[2])
	return m[1], n, m[3], true
}

var compilerErrorPos = regexp.MustCompile(`^(\S+?):(\d+)(?::\d+)?: ((?:fatal )?error: .*)$`)

// outsideHint explains a missing file that lies outside the mirrored tree:
// the module reaches above the tree root.
func outsideHint(output string, tree ModuleTree) string {
	for _, l := range strings.Split(output, "\n") {
		if !strings.Contains(l, "No such file or directory") {
			continue
		}
		for _, f := range strings.Fields(l) {
			f = strings.Trim(f, ":'\"‘’`")
			if !strings.Contains(f, "..") {
				continue
			}
			p := f
			if !filepath.IsAbs(p) {
				p = filepath.Join(tree.Dir, p)
			}
			p = filepath.Clean(p)
			if r, err := filepath.Rel(tree.Root, p); err == nil && (r == ".." || strings.HasPrefix(r, "../")) {
				return fmt.Sprintf("%s is outside the tree lkmtest mirrors for the build (%s): set root: in test.yaml to a directory that contains it", f, tree.Root)
			}
		}
	}
	return ""
}
