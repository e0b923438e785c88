package modbuild

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/dkms"
	"github.com/lkmtest/lkmtest/harness/internal/proc"
)

// A module directory with a dkms.conf is a DKMS package, built the way
// DKMS builds it (package dkms reads the file): the package is copied to
// $dkms_tree/<name>/<version>/build (real files, not the links of a
// mirror: its MAKE may run anything, and nothing it writes reaches the
// user's tree), the PATCH[n] that apply are applied, PRE_BUILD runs, then
// MAKE (DKMS's command line, through bash as DKMS evals it, in the build
// directory), then POST_BUILD, and the package's modules are
// BUILT_MODULE_LOCATION[n]/BUILT_MODULE_NAME[n].ko. $kernelver and
// $kernel_source_dir are lkmtest's kernel; ARCH, CROSS_COMPILE, the quirk
// table's variables and the module flags (KCFLAGS) reach every make of the
// build through the environment, since MAKE is the package's own command
// line. The copy is kept per (kernel, package) and brought up to date
// before each build (files whose size or time changed are copied again,
// files gone from the package removed, build products kept), so make
// rebuilds only what an edit touched; CLEAN is not run (DKMS 3 no longer
// runs it either). BUILD_EXCLUSIVE_* mismatches are an *ExcludedError.

// ExcludedError says that a DKMS package's BUILD_EXCLUSIVE_* directives
// rule the kernel out: DKMS would not build it, and the test is SKIP.
type ExcludedError struct {
	// Dir is the package; Reason says which directive and why.
	Dir, Reason string
}

func (e *ExcludedError) Error() string { return e.Reason }

// DKMSArch is DKMS's $arch (uname -m) for a: x86_64, aarch64.
func DKMSArch(a arch.Arch) string {
	if a == arch.ARM64 {
		return "aarch64"
	}
	return string(a)
}

// release is the kernel release k's build directory was configured for.
func release(k Kernel) string {
	b, err := os.ReadFile(filepath.Join(k.BuildDir, "include", "config", "kernel.release"))
	if r := strings.TrimSpace(string(b)); err == nil && r != "" {
		return r
	}
	return k.Version
}

// dkmsEnv is what the package's dkms.conf is evaluated with when built in
// work against k.
func dkmsEnv(k Kernel, a arch.Arch, work string) dkms.Env {
	return dkms.Env{KernelVer: release(k), Arch: DKMSArch(a), KernelSourceDir: k.BuildDir,
		DKMSTree: filepath.Join(work, "dkms"), SourceTree: filepath.Join(work, "src"), Jobs: runtime.NumCPU()}
}

// LoadDKMS evaluates the dkms.conf of the package dir for kernel k on a
// (work: where it would build; "" when only its directives matter).
func LoadDKMS(ctx context.Context, k Kernel, a arch.Arch, dir, work string) (*dkms.Conf, error) {
	if work == "" {
		work = filepath.Join(os.TempDir(), "lkmtest-dkms")
	}
	c, err := dkms.Load(ctx, filepath.Join(dir, dkms.ConfName), dkmsEnv(k, a, work))
	if err != nil {
		return nil, fmt.Errorf("DKMS package %s: %w", dir, err)
	}
	return c, nil
}

// BuildDKMS builds the DKMS package dir against k for a in work (see
// above), with the Module.symvers files extraSymbols of modules it uses.
// A package of which some modules were not built is Partial; one of which
// none was is a *ModuleBuildError; an excluded kernel an *ExcludedError.
func BuildDKMS(ctx context.Context, k Kernel, a arch.Arch, dir, work string, extraSymbols []string, log io.Writer) (*ModuleBuild, error) {
	if log == nil {
		log = io.Discard
	}
	c, err := LoadDKMS(ctx, k, a, dir, work)
	if err != nil {
		return nil, err
	}
	if c.Excluded != "" {
		return nil, &ExcludedError{Dir: dir, Reason: c.Excluded}
	}
	build := c.BuildDir()
	if err := syncCopy(dir, build, filepath.Join(work, "dkms-copy.json")); err != nil {
		return nil, fmt.Errorf("DKMS package %s: copy to %s: %w", dir, build, err)
	}
	// $dkms_tree/<name>/<version>/source and $source_tree/<name>-<version>
	// are the package's source: here, its copy.
	for _, l := range []string{filepath.Join(filepath.Dir(build), "source"), filepath.Join(c.Env.SourceTree, c.PackageName+"-"+c.PackageVersion)} {
		_ = os.MkdirAll(filepath.Dir(l), 0o755)
		if cur, err := os.Readlink(l); err != nil || cur != build {
			_ = os.Remove(l)
			_ = os.Symlink(build, l)
		}
	}
	var out bytes.Buffer
	w := io.MultiWriter(&out, log)
	userPaths := func(s string) string { return strings.ReplaceAll(s, build+"/", dir+"/") }
	defer func() { _ = os.WriteFile(filepath.Join(work, "build.log"), []byte(userPaths(out.String())), 0o600) }()
	env := dkmsBuildEnv(k, build, dir, extraSymbols)
	sh := func(what, script string) error {
		fmt.Fprintf(w, "$ %s\n", script)
		prefix := ""
		for _, v := range c.Env.Vars() {
			name, val, _ := strings.Cut(v, "=")
			prefix += name + "=" + shellQuote(val) + "\n"
		}
		cmd := proc.Command(ctx, "bash", "-c", prefix+script)
		cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.Env = build, w, w, env
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	for _, p := range c.Patches {
		if _, err := os.Stat(filepath.Join(build, "patches", p)); err != nil {
			return nil, fmt.Errorf("DKMS package %s: PATCH %s (dkms.conf) is not in %s", dir, p, filepath.Join(dir, "patches"))
		}
		if err := sh("PATCH "+p, "patch -p1 < ./patches/"+shellQuote(p)); err != nil {
			return nil, &ModuleBuildError{Dir: dir, Output: userPaths(out.String()), FirstError: "dkms.conf: patch " + p + " does not apply", Err: err}
		}
	}
	script := func(what, s string) error {
		if s == "" {
			return nil
		}
		first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		if st, err := os.Stat(filepath.Join(build, first)); err != nil || st.Mode()&0o111 == 0 {
			fmt.Fprintf(w, "dkms.conf: the %s script %s is not executable in the package: not run (as DKMS)\n", what, first)
			return nil
		}
		return sh(what, build+"/"+strings.TrimSpace(s))
	}
	if err := script("PRE_BUILD", c.PreBuild); err != nil {
		return nil, &ModuleBuildError{Dir: dir, Output: userPaths(out.String()), FirstError: FirstCompilerError(userPaths(out.String())), Err: err}
	}
	what := c.MakeDirective
	if what == "" {
		what = "DKMS's default make"
	}
	makeErr := sh(what+" (dkms.conf)", c.Command())
	if makeErr == nil {
		makeErr = script("POST_BUILD", c.PostBuild)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	text := userPaths(out.String())
	res := &ModuleBuild{Errors: map[string]string{}}
	first := FirstCompilerError(text)
	byFile := errorsByFile(text)
	for _, m := range c.Modules {
		ko := filepath.Join(build, m.Path())
		if _, err := os.Stat(ko); err == nil && makeErr == nil {
			res.Kos = append(res.Kos, ko)
			continue
		} else if err == nil {
			// Built, but make failed after it: DKMS counts the build as failed.
			res.Kos = append(res.Kos, ko)
			continue
		}
		why := byFile[m.Name]
		if why == "" {
			why = first
		}
		if why == "" {
			why = fmt.Sprintf("dkms.conf: %s (BUILT_MODULE_NAME[%d], BUILT_MODULE_LOCATION[%d]) was not built by %s: check its name and location", m.Path(), m.Index, m.Index, what)
		}
		res.Errors[m.Name] = why
	}
	sort.Strings(res.Kos)
	if makeErr != nil || len(res.Errors) > 0 {
		res.Partial = true
		res.FirstError = first
		if res.FirstError == "" && makeErr != nil {
			res.FirstError = fmt.Sprintf("%s failed (%v) and printed no compiler error: see build.log", what, makeErr)
		}
		for _, m := range c.Modules {
			if res.FirstError == "" && res.Errors[m.Name] != "" {
				res.FirstError = res.Errors[m.Name]
			}
		}
	}
	if len(res.Kos) == 0 {
		e := &ModuleBuildError{Dir: dir, Output: text, FirstError: res.FirstError, Err: makeErr}
		if makeErr == nil {
			e.Err = errors.New(res.FirstError)
		}
		return nil, e
	}
	for _, sv := range []string{filepath.Join(build, "Module.symvers"), filepath.Join(filepath.Dir(res.Kos[0]), "Module.symvers")} {
		if st, err := os.Stat(sv); err == nil && st.Size() > 0 {
			res.Symvers = sv
			break
		}
	}
	return res, nil
}

// dkmsBuildEnv is the environment of a DKMS package's commands: lkmtest's
// own, with make variables every build against k needs (MakeArgs: ARCH=,
// CROSS_COMPILE=, the quirk table's, and those the caller added such as
// W=1 as KBUILD_EXTRA_WARN) and the module flags, since the package's
// MAKE builds the command lines.
func dkmsBuildEnv(k Kernel, build, dir string, extraSymbols []string) []string {
	env := []string{}
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES":
			continue // an outer make's (make test) jobserver and overrides
		}
		env = append(env, e)
	}
	for _, a := range k.MakeArgs {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		if name == "W" {
			name = "KBUILD_EXTRA_WARN" // W= is read from the command line only
		}
		env = append(env, name+"="+val)
	}
	kcflags := "-g"
	if !strings.ContainsAny(build+dir, " \t\n'\"\\$`") {
		kcflags += " -fmacro-prefix-map=" + build + "/=" + dir + "/ -fdebug-prefix-map=" + build + "/=" + dir + "/"
	}
	env = append(env, "KCFLAGS="+kcflags)
	if len(extraSymbols) > 0 {
		env = append(env, "KBUILD_EXTRA_SYMBOLS="+strings.Join(extraSymbols, " "))
	}
	return env
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncCopy makes dst a copy of the package src (the files a mirror would
// link: no hidden files, build products or run directories): a file whose
// size, mode or time differs from the source's is copied again (keeping
// the source's time, so make sees what changed), a file copied earlier
// that the source no longer has is removed (the list is kept in manifest),
// and whatever the build made is kept.
func syncCopy(src, dst, manifest string) error {
	var before []string
	if b, err := os.ReadFile(manifest); err == nil {
		_ = json.Unmarshal(b, &before)
	}
	now := map[string]bool{}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	err := walkSources(src, func(rel string, data []byte) error {
		now[rel] = true
		s := filepath.Join(src, rel)
		d := filepath.Join(dst, rel)
		si, err := os.Stat(s)
		if err != nil {
			return err
		}
		if di, err := os.Lstat(d); err == nil && di.Mode().IsRegular() && di.Size() == si.Size() && di.Mode().Perm() == si.Mode().Perm() && di.ModTime().Equal(si.ModTime()) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
			return err
		}
		_ = os.RemoveAll(d)
		if err := os.WriteFile(d, data, si.Mode().Perm()|0o200); err != nil {
			return err
		}
		if err := os.Chmod(d, si.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(d, si.ModTime(), si.ModTime())
	})
	if err != nil {
		return err
	}
	for _, rel := range before {
		if !now[rel] {
			_ = os.Remove(filepath.Join(dst, rel))
		}
	}
	var list []string
	for rel := range now {
		list = append(list, rel)
	}
	sort.Strings(list)
	b, _ := json.Marshal(list)
	return os.WriteFile(manifest, b, 0o600)
}
