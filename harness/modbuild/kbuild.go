package modbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ModuleBuild is the outcome of building one module directory.
type ModuleBuild struct {
	// Kos are the built .ko files (in the build directory), sorted. Modules
	// in Kbuild subdirectories (obj-m += sub/) are included.
	Kos []string
	// Partial is true when some modules of the directory did not build;
	// FirstError then names the first compiler error.
	Partial    bool
	FirstError string
	// Errors are the first error of each module known to have failed, by
	// module name (from its own single-target build, or a compiler error
	// in a source file of its name).
	Errors map[string]string
	// Symvers is the build's Module.symvers ("" when none), for modules
	// of other directories that use these modules' exports.
	Symvers string
	// Outside are the files outside the module directory that the build
	// read (relative to the module directory, e.g. "../../klib.h").
	Outside []string
}

// BuildModules builds the module directory tree.Dir with make -C <kernel
// build dir> M=<its mirror>, inside a mirror of tree.Root kept in work (see
// tree.go: the user's tree is never written to). work may persist between
// calls, so make rebuilds only what an edit touched; the caller must not
// build in the same work directory concurrently. extraSymbols are
// Module.symvers files of modules this directory's modules use.
//
// When some modules of the directory fail to compile, the others are still
// built (Partial): a step that needs only those runs. When none builds, the
// error is a *ModuleBuildError with the first compiler error.
func BuildModules(ctx context.Context, k Kernel, tree ModuleTree, work string, extraSymbols []string, log io.Writer) (*ModuleBuild, error) {
	if log == nil {
		log = io.Discard
	}
	rel, err := tree.Rel()
	if err != nil {
		return nil, err
	}
	mirror := filepath.Join(work, "tree")
	if err := mirrorTree(tree.Root, mirror, tree.Dir); err != nil {
		return nil, fmt.Errorf("build module %s: mirror %s: %w", tree.Dir, tree.Root, err)
	}
	mdir := filepath.Join(mirror, rel)
	var out bytes.Buffer
	base := makeArgs(k, tree, mirror, mdir, extraSymbols)
	userPaths := func(s string) string { return strings.ReplaceAll(s, mirror+"/", tree.Root+"/") }
	buildErr := run(ctx, io.MultiWriter(&out, log), "make", append(append([]string{}, base...), "-k", "modules")...)
	defer func() { _ = os.WriteFile(filepath.Join(work, "build.log"), []byte(userPaths(out.String())), 0o600) }()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res := &ModuleBuild{}
	if buildErr == nil {
		res.Kos = orderedModules(mdir)
	} else {
		// Some module failed: build the others one by one as kbuild's
		// single targets (make M=... name.ko: modpost for those alone).
		res.Partial = true
		res.FirstError = FirstCompilerError(userPaths(out.String()))
		res.Errors = errorsByFile(userPaths(out.String()))
		single := func(targets []string) (string, error) { // one make of targets, its output added to out
			var one bytes.Buffer
			args := append([]string{}, base...)
			for _, k := range targets {
				rel, _ := filepath.Rel(mdir, k)
				args = append(args, rel)
			}
			err := run(ctx, io.MultiWriter(&one, log), "make", args...)
			out.Write(one.Bytes())
			return userPaths(one.String()), err
		}
		var symvers []byte
		res.Kos, symvers = singleTargets(single, mdir, compiledModules(mdir), res.Errors)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := os.WriteFile(filepath.Join(mdir, "Module.symvers"), symvers, 0o644); err != nil {
			return nil, err
		}
	}
	if len(res.Kos) == 0 {
		return nil, noModules(tree, userPaths(out.String()), res.FirstError, buildErr)
	}
	if st, err := os.Stat(filepath.Join(mdir, "Module.symvers")); err == nil && st.Size() > 0 {
		res.Symvers = filepath.Join(mdir, "Module.symvers")
	}
	res.Outside = outsideDeps(mirror, mdir)
	return res, nil
}

// makeArgs are the arguments of every make of the module directory mdir
// of tree, mirrored in mirror, against kernel k.
func makeArgs(k Kernel, tree ModuleTree, mirror, mdir string, extraSymbols []string) []string {
	base := append([]string{"-C", k.BuildDir, "M=" + mdir}, k.MakeArgs...)
	// __FILE__ (in BUG and WARNING reports) names the module's own files
	// relative to its directory ("kernel BUG at crashers.c:34") and other
	// files of the tree by their real path (GCC uses the last match).
	// -g: debug info for symbolizing crash reports, whatever the
	// kernel's DEBUG_INFO (it changes no code); its file names are the
	// user's tree, not the mirror.
	kcflags := "-g"
	if !strings.ContainsAny(tree.Root+mirror, " \t\n'\"\\$`") {
		kcflags += " -fmacro-prefix-map=" + mirror + "/=" + tree.Root + "/ -fdebug-prefix-map=" + mirror + "/=" + tree.Root + "/"
	}
	if !strings.ContainsAny(mdir, " \t\n'\"\\$`") {
		kcflags += " -fmacro-prefix-map=" + mdir + "/="
	}
	base = append(base, "KCFLAGS="+kcflags)
	if len(extraSymbols) > 0 {
		base = append(base, "KBUILD_EXTRA_SYMBOLS="+strings.Join(extraSymbols, " "))
	}
	base = append(base, recipeVars(k.BuildDir)...)
	// (ccache was measured and left out: hashing the kernel headers costs
	// more than the .mod.c compile it would save.)
	if k.ProbeDir != "" && os.MkdirAll(k.ProbeDir, 0o700) == nil {
		if k.Modpost {
			base = append(base, modpostArgs(k.ProbeDir)...)
		}
		if k.PCH != "" {
			if args := ccArgs(k.ProbeDir, k.compiler(), k.PCH); args != nil {
				base = append(base, args...)
				notePCHDir(k)
			}
		}
		if args := probeMemoArgs(k.ProbeDir, k.TryRun); args != nil {
			// The memo exists, empty at first: make's $(file <) of a
			// missing file is an error in some versions.
			if f, err := os.OpenFile(filepath.Join(k.ProbeDir, "probes"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
				f.Close()
				base = append(base, args...)
			}
		}
	}
	return base
}

// singleTargets builds the modules kos (their .ko paths) as kbuild single
// targets (make M=... a.ko b.ko: modpost for those alone) in as few make
// runs as it can: all at once; the modules a failing run's errors name
// (modpost's "[.../name.ko]", a compiler error in name.c) are left out and
// the rest built again; when a failing run names none of them, one at a
// time. It returns the .ko files built, sorted, and the exports of all of
// them (each run's modpost rewrites Module.symvers with its own modules'),
// and records each left-out module's first error in errs.
func singleTargets(build func(targets []string) (string, error), mdir string, kos []string, errs map[string]string) ([]string, []byte) {
	var built []string
	var symvers []byte
	succeed := func(ks []string) {
		for _, k := range ks {
			if _, err := os.Stat(k); err == nil {
				built = append(built, k)
			}
		}
		if b, err := os.ReadFile(filepath.Join(mdir, "Module.symvers")); err == nil {
			symvers = append(symvers, b...)
		}
	}
	name := func(ko string) string { return strings.TrimSuffix(filepath.Base(ko), ".ko") }
	for pending := kos; len(pending) > 0; {
		for _, k := range pending {
			_ = os.Remove(k) // what is left afterwards was built now
		}
		out, err := build(pending)
		if err == nil {
			succeed(pending)
			break
		}
		named := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimSpace(l)
			if m := modpostModule.FindStringSubmatch(l); m != nil {
				if n := strings.TrimSuffix(filepath.Base(m[1]), ".ko"); named[n] == "" {
					named[n] = l
				}
			}
		}
		for n, e := range errorsByFile(out) {
			if named[n] == "" {
				named[n] = e
			}
		}
		var rest []string
		for _, k := range pending {
			if e, ok := named[name(k)]; ok {
				errs[name(k)] = e
			} else {
				rest = append(rest, k)
			}
		}
		if len(rest) == len(pending) {
			// The errors name none of them: one at a time.
			for _, k := range pending {
				out, err := build([]string{k})
				if err == nil {
					succeed([]string{k})
				} else if first := FirstCompilerError(out); first != "" {
					errs[name(k)] = first
				}
			}
			break
		}
		pending = rest
	}
	sort.Strings(built)
	return built, symvers
}

// modpostModule finds the module a modpost error is about.
var modpostModule = regexp.MustCompile(`^ERROR: modpost: .*\[(\S+\.ko)\]`)

// orderedModules lists the .ko files of the last successful build of
// mdir, from kbuild's modules.order (".ko" entries up to 6.1, ".o" from
// 6.2), or every .ko under mdir when there is no modules.order.
func orderedModules(mdir string) []string {
	var kos []string
	b, err := os.ReadFile(filepath.Join(mdir, "modules.order"))
	if err == nil {
		for _, l := range strings.Fields(string(b)) {
			l = strings.TrimSuffix(strings.TrimSuffix(l, ".o"), ".ko") + ".ko"
			if !filepath.IsAbs(l) {
				l = filepath.Join(mdir, l)
			}
			if _, err := os.Stat(l); err == nil {
				kos = append(kos, l)
			}
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		// A kbuild without modules.order: every .ko (an empty
		// modules.order means none, whatever an earlier build left).
		kos = findFiles(mdir, ".ko")
	}
	sort.Strings(kos)
	return kos
}

// compiledModules lists the modules under mdir whose objects compiled
// (kbuild writes name.mod once they have): the .ko each would be.
func compiledModules(mdir string) []string {
	var kos []string
	for _, m := range findFiles(mdir, ".mod") {
		kos = append(kos, strings.TrimSuffix(m, ".mod")+".ko")
	}
	sort.Strings(kos)
	return kos
}

// findFiles lists the files under dir whose names end in suffix, outside
// hidden directories.
func findFiles(dir, suffix string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), suffix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// compilerError matches a GCC or Clang error ("file.c:12:5: error: ..."),
// a fatal error, or modpost's ("ERROR: modpost: ...").
var compilerError = regexp.MustCompile(`^(\S+?:\d+(?::\d+)?: (?:fatal )?error: .*|ERROR: modpost: .*|\S+?:\d+: \*\*\* .*)$`)

// recipeVars are values the kernel's Makefile would compute again, with a
// process, for every recipe of every make a module build runs: its
// KERNELRELEASE (a cat of include/config/kernel.release, 18 times for one
// module) and, on a kernel without BTF for modules, PAHOLE_FLAGS (a
// script, 6 times). Given on the command line, their recursive
// definitions are never expanded; the values are the same.
func recipeVars(buildDir string) []string {
	var out []string
	if b, err := os.ReadFile(filepath.Join(buildDir, "include/config/kernel.release")); err == nil {
		if rel := strings.TrimSpace(string(b)); rel != "" && !strings.ContainsAny(rel, " \t\n'\"$`\\") {
			out = append(out, "KERNELRELEASE="+rel)
		}
	}
	if b, err := os.ReadFile(filepath.Join(buildDir, ".config")); err == nil && !bytes.Contains(b, []byte("\nCONFIG_DEBUG_INFO_BTF_MODULES=y")) {
		out = append(out, "PAHOLE_FLAGS=")
	}
	return out
}
