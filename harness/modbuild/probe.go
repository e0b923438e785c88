package modbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/internal/proc"
)

// Kbuild evaluates about thirty compiler probes (cc-option, as-instr...) on
// every "make M=" run, one compiler start each: over a second of a hello
// module's 2.3 s build here. Their answers depend only on the compiler and
// the kernel's flags, so lkmtest memoizes them per built kernel. It does so
// by overriding kbuild's try-run on the make command line with the same
// function plus a cache lookup keyed by the probe command's text. The
// module's compile commands are unchanged (compared in
// TestProbeMemoMakefile and by the VM tests).
//
// The override must set up the temporary names a probe command uses
// exactly as the kernel's own try-run does, and kernels define it in one
// of two ways (TryRunStyle reads which from the tree: a fact of the tree,
// not of its version, since stable releases backport the change):
//   - file style (5.4.0, in scripts/Kbuild.include): TMP and TMPO are files
//     next to $(TMPOUT), the module directory, removed afterwards;
//   - directory style (f2f02ebd8f38, 5.8, which 5.4.y took in June 2020:
//     5.4.301's scripts/Kbuild.include; 6.1 and 6.12 in
//     scripts/Makefile.compiler): TMPOUT is a private directory, TMP and
//     TMPO are in it, and it is removed.
// A tree with neither gets no memo.

// TryRun is a kernel's definition of kbuild's try-run.
type TryRun int

// The try-run definitions lkmtest knows.
const (
	TryRunUnknown TryRun = iota
	TryRunFiles          // TMP="$(TMPOUT).$$$$.tmp"; ...; rm -f
	TryRunDir            // TMP=$(TMPOUT)/tmp; mkdir -p $(TMPOUT); trap "rm -rf $(TMPOUT)" EXIT
)

// TryRunStyle reads which try-run the kernel tree at src defines.
func TryRunStyle(src string) TryRun {
	for _, f := range []string{"scripts/Makefile.compiler", "scripts/Kbuild.include"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue
		}
		def := tryRunDefinition(string(b))
		switch {
		case def == "":
			continue
		case strings.Contains(def, "TMP=$(TMPOUT)/tmp;") && strings.Contains(def, "mkdir -p $(TMPOUT);"):
			return TryRunDir
		case strings.Contains(def, `TMP="$(TMPOUT).$$$$.tmp";`):
			return TryRunFiles
		}
		return TryRunUnknown
	}
	return TryRunUnknown
}

// tryRunDefinition is the text of "try-run = ..." with its continuation
// lines, or "".
func tryRunDefinition(makefile string) string {
	var def []string
	in := false
	for _, l := range strings.Split(makefile, "\n") {
		if !in && !strings.HasPrefix(l, "try-run =") && !strings.HasPrefix(l, "try-run=") {
			continue
		}
		in = true
		def = append(def, strings.TrimSpace(strings.TrimSuffix(strings.TrimRight(l, " \t"), `\`)))
		if !strings.HasSuffix(strings.TrimRight(l, " \t"), `\`) {
			break
		}
	}
	return strings.Join(def, " ")
}

// probeMemoArg returns the make argument that memoizes try-run results in
// dir for a kernel whose try-run has style, or "" when there is none: an
// unknown style, or a dir that cannot be used literally in a shell command.
func probeMemoArg(dir string, style TryRun) string {
	if dir == "" || strings.ContainsAny(dir, "'\"$`\\ \t\n;&|<>()*?[]#~%") {
		return ""
	}
	var setup, cleanup string
	switch style {
	case TryRunDir:
		setup = `TMP=$(TMPOUT)/tmp; TMPO=$(TMPOUT)/tmp.o; mkdir -p $(TMPOUT); trap "rm -rf $(TMPOUT)" EXIT; `
	case TryRunFiles:
		setup = `TMP="$(TMPOUT).$$$$.tmp"; TMPO="$(TMPOUT).$$$$.o"; `
		cleanup = `rm -f "$$TMP" "$$TMPO"; `
	default:
		return ""
	}
	return "try-run=$(shell set -e; " +
		"k=$$(printf %s '$(subst ','\\'',$(1))' | md5sum); " +
		"f='" + dir + "'/$${k%% *}; " +
		`if [ -f "$$f" ]; then read -r r < "$$f" || :; else ` + setup +
		"if ($(1)) >/dev/null 2>&1; then r=y; else r=n; fi; " + cleanup +
		`echo $$r > "$$f.$$$$"; mv -f "$$f.$$$$" "$$f"; fi; ` +
		`if [ "$$r" = y ]; then echo "$(2)"; else echo "$(3)"; fi)`
}

// shown abbreviates the probe-memo override in logged command lines.
func shown(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "try-run=") {
			a = "try-run=<lkmtest probe memo, see harness/modbuild/probe.go>"
		}
		out[i] = a
	}
	return out
}

// run logs and runs a command, sending its output to log.
func run(ctx context.Context, log io.Writer, name string, args ...string) error {
	fmt.Fprintf(log, "$ %s\n", strings.Join(append([]string{name}, shown(args)...), " "))
	return proc.Run(ctx, log, "", name, args...)
}
