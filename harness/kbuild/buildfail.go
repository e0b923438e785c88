package kbuild

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/quirk"
)

// QuirkTable is where what differs between kernel versions is kept (named
// in every failed kernel build's error).
const QuirkTable = "harness/quirk/quirk.go"

// KernelBuildError is a kernel configure or build run of make that failed.
// Its message leads with the first compiler, assembler or linker error
// (file:line in the kernel tree), then the compiler and the quirks of the
// quirk table that were applied, and what to do: a kernel much older than
// the host's compiler may need a new quirk (a make variable), which is
// where lkmtest keeps such differences; nothing is skipped or retried.
type KernelBuildError struct {
	// Stage is "configure kernel" or "build kernel".
	Stage string
	// Version and Arch are the kernel's, Tree its source tree (the
	// paths of First are relative to it).
	Tree    string
	Version string
	Arch    arch.Arch
	// Compiler is the compiler's version line.
	Compiler string
	// Quirks are the ids of the quirks applied, MakeVars their make
	// variables.
	Quirks   []string
	MakeVars []string
	// First is the first error line of the log with the tree's and the
	// build directory's paths made relative ("" when none was recognised).
	First string
	// Log is the kept build log; Tail its last lines.
	Log  string
	Tail string
	// Err is make's failure.
	Err error
}

func (e *KernelBuildError) Error() string {
	var b strings.Builder
	first := e.First
	if first == "" {
		first = fmt.Sprintf("make failed (%s) and no compiler, assembler or linker error was recognised in its log: read its last lines below", strings.TrimPrefix(e.Err.Error(), e.Stage+": "))
	}
	fmt.Fprintf(&b, "%s %s %s: %s\n", e.Stage, e.Version, e.Arch, first)
	quirks := "none"
	if len(e.Quirks) > 0 {
		quirks = strings.Join(e.Quirks, ", ")
	}
	vars := "none"
	if len(e.MakeVars) > 0 {
		vars = strings.Join(e.MakeVars, " ")
	}
	fmt.Fprintf(&b, "  tree: %s; compiler: %s; quirks applied to %s on %s from the quirk table (%s): %s; their make variables: %s\n",
		e.Tree, e.Compiler, e.Version, e.Arch, QuirkTable, quirks, vars)
	fmt.Fprintf(&b, "  fix: if this kernel is older than the compiler, it may need a quirk: add a row for its versions to the quirk table (%s) with the make variable that builds it "+
		"(KCFLAGS=-Wno-error=<warning> for a warning made an error, HOSTCFLAGS=-fcommon for a host tool's duplicate global, ...) and the public fact behind it; "+
		"or build with an older compiler, or use a newer release of the series", QuirkTable)
	if e.Log != "" {
		fmt.Fprintf(&b, "\nlast lines of the build log (all of it: %s):\n%s", e.Log, e.Tail)
	}
	return b.String()
}

func (e *KernelBuildError) Unwrap() error { return e.Err }

var (
	// gcc and clang: "kernel/fork.c:12:5: error: ...", "fatal error: ...".
	ccError = regexp.MustCompile(`^(\S+?):(\d+)(?::\d+)?: (?:fatal )?error: .*$`)
	// gas: "arch/x86/entry/entry_64.S:1756: Error: ...".
	asError = regexp.MustCompile(`^(\S+?):(\d+): Error: .*$`)
	// ld: "ld: scripts/dtc/dtc-parser.tab.o:(.bss+0x10): multiple definition of `yylloc'; ...".
	ldError = regexp.MustCompile(`^(?:\S*/)?(?:\S+-)?ld(?:\.bfd|\.gold)?: .*(?:multiple definition of|undefined reference to|cannot find|error:).*$`)
	// A tool's own error: "gcc: error: unrecognized command-line option ...".
	toolError = regexp.MustCompile(`^(?:\S*/)?(?:\S+-)?(?:gcc|cc1|cc|clang|as|objtool)(?:-[0-9]+)?: (?:fatal )?error: .*$`)
	// make's, the last resort: "make[2]: *** No rule to make target ...".
	makeError = regexp.MustCompile(`^make(?:\[\d+\])?: \*\*\* .*$`)
)

// FirstBuildError is the first error line of a kernel build log, with the
// prefixes in dirs (the source tree, the O= directory) removed from the
// paths it names; "" when there is none. A compiler, assembler, linker or
// tool error wins over make's own "***" lines, which only echo it.
func FirstBuildError(log string, dirs ...string) string {
	var mk string
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case ccError.MatchString(l), asError.MatchString(l), ldError.MatchString(l), toolError.MatchString(l):
			return relPaths(l, dirs)
		case mk == "" && makeError.MatchString(l):
			mk = l
		}
	}
	return relPaths(mk, dirs)
}

// relPaths removes each of dirs (and a trailing slash) from l.
func relPaths(l string, dirs []string) string {
	for _, d := range dirs {
		if d = strings.TrimRight(d, "/"); d != "" {
			l = strings.ReplaceAll(l, d+"/", "")
		}
	}
	return l
}

// buildError makes the KernelBuildError of a failed make in stage.
func buildError(stage string, req KernelRequest, ccVersion, out, kept, logText, tailText string, err error) *KernelBuildError {
	q := quirk.For(req.Arch, req.Source.Version)
	return &KernelBuildError{
		Stage: stage, Tree: req.Source.Dir, Version: req.Source.Version, Arch: req.Arch, Compiler: ccVersion,
		Quirks: q.IDs, MakeVars: q.MakeVars,
		First: FirstBuildError(logText, req.Source.Dir, out),
		Log:   kept, Tail: tailText, Err: err,
	}
}
