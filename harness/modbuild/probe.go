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

// probeMemoArgs returns the make arguments that memoize try-run results
// in dir for a kernel whose try-run has style, or nil when there is none:
// an unknown style, or a dir that cannot be used literally in a shell
// command.
//
// The memo is one file, dir/probes: a word "y:KEY" or "n:KEY" per probe,
// KEY the probe command with "_", "%", spaces, tabs and ":" spelled "_u",
// "_p", "_s", "_t", "_c" (so a probe is one word, and $(filter) finds it
// and nothing else). make reads
// it with $(file <) and appends to it with $(file >>): a probe answered
// before starts no process at all. A new probe runs as the kernel's own
// try-run would, in one shell, and its answer is appended. Answers whose
// text holds what a shell's echo "..." would change ($, `, \, ") are
// echoed by a shell as the kernel's are (the probe is still memoized).
func probeMemoArgs(dir string, style TryRun) []string {
	if dir == "" || strings.ContainsAny(dir, "'\"$`\\ \t\n;&|<>()*?[]#~%,") {
		return nil
	}
	var setup, cleanup string
	switch style {
	case TryRunDir:
		setup = `TMP=$(TMPOUT)/tmp; TMPO=$(TMPOUT)/tmp.o; mkdir -p $(TMPOUT); trap "rm -rf $(TMPOUT)" EXIT; `
	case TryRunFiles:
		setup = `TMP="$(TMPOUT).$$$$.tmp"; TMPO="$(TMPOUT).$$$$.o"; `
		cleanup = `rm -f "$$TMP" "$$TMPO"; `
	default:
		return nil
	}
	memo := dir + "/probes"
	return []string{
		"lkmtest-e=",
		"lkmtest-s=$(lkmtest-e) $(lkmtest-e)",
		"lkmtest-t=$(lkmtest-e)\t$(lkmtest-e)",
		// The probe's key: one word.
		"lkmtest-key=$(subst :,_c,$(subst $(lkmtest-t),_t,$(subst $(lkmtest-s),_s,$(subst %,_p,$(subst _,_u,$(1))))))",
		// The memo's answer for key $(1): y, n or nothing.
		"lkmtest-memo=$(firstword $(patsubst %:$(1),%,$(filter %:$(1),$(file <" + memo + "))))",
		// Answer y or n ($(4)) with $(2) or $(3), as echo would.
		"lkmtest-answer=$(if $(findstring $$,$(2)$(3))$(findstring `,$(2)$(3))$(findstring \\,$(2)$(3))$(findstring \",$(2)$(3))," +
			`$(shell if [ $(4) = y ]; then echo "$(2)"; else echo "$(3)"; fi),$(if $(filter y,$(4)),$(2),$(3)))`,
		// A new probe: run it, record y or n ($(4)), answer.
		"lkmtest-new=$(if $(filter y n,$(4)),$(file >>" + memo + ",$(4):$(5))$(call lkmtest-answer,$(1),$(2),$(3),$(4)))",
		"lkmtest-probe=$(if $(4),$(call lkmtest-answer,$(1),$(2),$(3),$(4)),$(call lkmtest-new,$(1),$(2),$(3)," +
			"$(shell set -e; " + setup + "if ($(1)) >/dev/null 2>&1; then echo y; else echo n; fi; " + cleanup + "),$(5)))",
		// The key ($(4)), computed once: its memo's answer, then the probe.
		"lkmtest-look=$(call lkmtest-probe,$(1),$(2),$(3),$(call lkmtest-memo,$(4)),$(4))",
		"try-run=$(call lkmtest-look,$(1),$(2),$(3),$(call lkmtest-key,$(1)))",
	}
}

// shown abbreviates the probe-memo override in logged command lines.
func shown(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.HasPrefix(a, "lkmtest-") {
			continue
		}
		if strings.HasPrefix(a, "try-run=") {
			a = "try-run=<lkmtest probe memo, see harness/modbuild/probe.go>"
		}
		out = append(out, a)
	}
	return out
}

// run logs and runs a command, sending its output to log.
func run(ctx context.Context, log io.Writer, name string, args ...string) error {
	fmt.Fprintf(log, "$ %s\n", strings.Join(append([]string{name}, shown(args)...), " "))
	return proc.Run(ctx, log, "", name, args...)
}
