package modbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
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
	base := append([]string{"-C", k.BuildDir, "M=" + mdir}, k.MakeArgs...)
	// __FILE__ (in BUG and WARNING reports) names the module's own files
	// relative to its directory ("kernel BUG at crashers.c:34") and other
	// files of the tree by their real path (GCC uses the last match).
	kcflags := "-fmacro-prefix-map=" + mdir + "/="
	if !strings.ContainsAny(tree.Root+mirror, " \t\n'\"\\$`") {
		kcflags = "-fmacro-prefix-map=" + mirror + "/=" + tree.Root + "/ " + kcflags
	}
	if !strings.ContainsAny(mdir, " \t\n'\"\\$`") {
		base = append(base, "KCFLAGS="+kcflags)
	}
	if len(extraSymbols) > 0 {
		base = append(base, "KBUILD_EXTRA_SYMBOLS="+strings.Join(extraSymbols, " "))
	}
	// (ccache was measured and left out: hashing the kernel headers costs
	// more than the .mod.c compile it would save.)
	if k.ProbeDir != "" && os.MkdirAll(k.ProbeDir, 0o700) == nil {
		if arg := probeMemoArg(k.ProbeDir, TryRunStyle(filepath.Join(k.BuildDir, "source"))); arg != "" {
			base = append(base, arg)
		}
	}
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
		single := func(targets []string) (string, error) {
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
		e := &ModuleBuildError{Dir: tree.Dir, Output: userPaths(out.String()), FirstError: res.FirstError, Err: buildErr}
		if buildErr == nil {
			e.Err = fmt.Errorf("no .ko produced: does its Kbuild or Makefile set obj-m (obj-m += name.o)?")
		}
		if hint := outsideHint(e.Output, tree); hint != "" {
			e.FirstError += "; " + hint
		}
		return nil, e
	}
	if st, err := os.Stat(filepath.Join(mdir, "Module.symvers")); err == nil && st.Size() > 0 {
		res.Symvers = filepath.Join(mdir, "Module.symvers")
	}
	res.Outside = outsideDeps(mirror, mdir)
	return res, nil
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

// outsideDeps lists the files of the mirror outside mdir that the build
// read, relative to mdir: those kbuild recorded as dependencies (the .cmd
// files' deps_ and source_ lists), and every makefile of the tree outside
// mdir (one Makefile includes another, include $(src)/../common.mk, in no
// .cmd file). One walk of the mirror finds both.
func outsideDeps(mirror, mdir string) []string {
	seen := map[string]bool{}
	add := func(f string) {
		if r, err := filepath.Rel(mdir, f); err == nil {
			seen[r] = true
		}
	}
	_ = filepath.WalkDir(mirror, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		n := d.Name()
		if !strings.HasPrefix(p, mdir+"/") && (n == "Makefile" || n == "Kbuild" || n == "makefile" || n == "GNUmakefile" || strings.HasSuffix(n, ".mk") || strings.HasSuffix(n, ".mak")) {
			add(p)
			return nil
		}
		if !strings.HasSuffix(n, ".cmd") || !strings.HasPrefix(n, ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			f = strings.TrimSuffix(f, ")")
			if strings.Contains(f, "$(") || strings.HasSuffix(f, ":=") || f == "\\" {
				continue
			}
			if !filepath.IsAbs(f) {
				// Kernels that run make in the module directory (6.13
				// and later) record paths relative to it.
				f = filepath.Join(mdir, f)
			}
			if f = filepath.Clean(f); !strings.HasPrefix(f, mirror+"/") || strings.HasPrefix(f, mdir+"/") || isBuildProduct(filepath.Base(f)) {
				continue
			}
			if st, err := os.Lstat(f); err == nil && st.Mode()&os.ModeSymlink != 0 {
				add(f) // only sources are links in the mirror
			}
		}
		return nil
	})
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// OutsideDigest hashes the contents of files named relative to dir (as
// ModuleBuild.Outside lists them); a missing file hashes as missing.
func OutsideDigest(dir string, files []string) string {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			fmt.Fprintf(h, "%d:%s:missing:", len(f), f)
			continue
		}
		fmt.Fprintf(h, "%d:%s:%d:", len(f), f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// SourceDigest hashes the names and contents of a module directory's source
// files (those walkSources finds, as the mirror links them): equal digests
// build equal modules against the same kernel.
func SourceDigest(src string) (string, error) {
	h := sha256.New()
	err := walkSources(src, func(rel string, data []byte) error {
		fmt.Fprintf(h, "%d:%s:%d:", len(rel), rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// walkSources calls fn for every source file under src: regular files (or
// links to them) that are not build products, outside hidden directories
// and lkmtest's run directories. Links to directories are followed, as the
// mirror does (a loop is an error).
func walkSources(src string, fn func(rel string, data []byte) error) error {
	var walk func(dir, prefix string, stack []string) error
	walk = func(dir, prefix string, stack []string) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return err
		}
		for _, s := range stack {
			if s == real {
				return fmt.Errorf("symlink loop: %s leads back to %s", dir, s)
			}
		}
		stack = append(stack, real)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			p, rel := filepath.Join(dir, e.Name()), filepath.Join(prefix, e.Name())
			st, err := os.Stat(p) // follows links
			if err != nil {
				continue // a dangling link
			}
			if skipInTree(e.Name(), st.IsDir()) {
				continue
			}
			switch {
			case st.IsDir():
				if err := walk(p, rel, stack); err != nil {
					return err
				}
			case st.Mode().IsRegular():
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := fn(rel, b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(src, "", nil)
}

func isBuildProduct(name string) bool {
	for _, suf := range []string{".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers", ".order", ".a"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return strings.HasPrefix(name, ".")
}
