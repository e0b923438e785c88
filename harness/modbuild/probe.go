package modbuild

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lkmtest/lkmtest/harness/internal/proc"
)

// Kbuild evaluates about thirty compiler probes (cc-option, as-instr...) on
// every "make M=" run, one compiler start each: over a second of a hello
// module's 2.3 s build here. Their answers depend only on the compiler and
// the kernel's flags, so lkmtest memoizes them per built kernel. It does so
// by overriding kbuild's try-run (scripts/Makefile.compiler) on the make
// command line with the same function plus a cache lookup keyed by the probe
// command's text. The module's compile commands are unchanged (compared in
// TestProbeMemoMakefile and by the VM tests).

// probeMemoArg returns the make argument that memoizes try-run results in
// dir, or "" when dir cannot be used literally in a shell command.
func probeMemoArg(dir string) string {
	if dir == "" || strings.ContainsAny(dir, "'\"$`\\ \t\n;&|<>()*?[]#~%") {
		return ""
	}
	return "try-run=$(shell set -e; " +
		"k=$$(printf %s '$(subst ','\\'',$(1))' | md5sum); " +
		"f='" + dir + "'/$${k%% *}; " +
		`if [ -f "$$f" ]; then read -r r < "$$f" || :; else ` +
		`TMP=$(TMPOUT)/tmp; trap "rm -rf $(TMPOUT)" EXIT; mkdir -p $(TMPOUT); ` +
		"if ($(1)) >/dev/null 2>&1; then r=y; else r=n; fi; " +
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
