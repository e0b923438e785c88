package modbuild

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/internal/proc"
)

// Most of an edited module's compile is the compiler reading the kernel's
// headers: 0.15 of hello's 0.16 s on arm64 here, where a bare boot takes
// 0.3 s. A GCC precompiled header (PCH) of the headers a source file
// starts with cuts that compile to 0.03 s and gives the same object, byte
// for byte. lkmtest uses one only where that is checked:
//
//   - make runs the compiler through a wrapper (CC="<probe dir>/cc <gcc>",
//     as one would run ccache): it hands the compile of a module's own .c
//     file to lkmtest (lkmtest __cc, CompileMain) and runs anything else
//     as it is;
//   - the PCH is keyed by the whole command (but the output, dependency
//     file and source) and the source's prefix: its leading #include <...>
//     and one-line #define lines (a pr_fmt), before anything but comments
//     and blank lines (includePrefix). It holds the
//     files the command -includes (compiler_types.h...) and then that
//     prefix, and the compile -includes it instead of those files;
//   - without one, the compile runs as it is and leaves a wish; a source
//     compiled twice with the same key (an edit loop) gets a PCH, built
//     after the run by BuildPCHs (lkmtest pch build, in the background),
//     which keeps it only when every header it holds is the kernel's (in
//     its build or source tree, which never change: a module's own header
//     is never in it), when the prefix included a second time adds
//     nothing (so the source's own #include lines are then empty), and
//     when the source compiled with it gives the same object as without;
//   - the PCH's own dependencies are added to the compile's dependency
//     file, so kbuild's .cmd file lists the same headers.

// ccScript is the compiler wrapper, CC= on make's command line before the
// compiler. LKMTEST_PCH_SELF (also on make's command line) is the lkmtest
// binary; KBUILD_EXTMOD is the module directory (make M=).
const ccScript = `#!/bin/sh
# lkmtest's compiler wrapper (CC=): see harness/modbuild/pch.go in lkmtest.
# The compile of a module's own .c file goes through lkmtest (precompiled
# headers); anything else runs as it is.
if [ -n "$LKMTEST_PCH_SELF" ] && [ -n "$KBUILD_EXTMOD" ]; then
	eval "src=\${$#}"
	case $src in
	*.mod.c) ;;
	"$KBUILD_EXTMOD"/*.c) exec "$LKMTEST_PCH_SELF" __cc "${0%/*}/pch" "$@" ;;
	esac
fi
exec "$@"
`

// ccArgs returns the make arguments that compile through the wrapper,
// written into dir (a kernel's probe directory), for the compiler cc and
// the lkmtest binary self, or nil (no wrapper: self is "", or dir or self
// cannot be named literally on a make command line).
func ccArgs(dir, cc, self string) []string {
	bad := "'\"$`\\ \t\n;&|<>()*?[]#~%,=:"
	if dir == "" || self == "" || strings.ContainsAny(dir+self+cc, bad) {
		return nil
	}
	p := filepath.Join(dir, "cc")
	if !writeScript(p, ccScript) {
		return nil
	}
	if os.MkdirAll(filepath.Join(dir, "pch", "wish"), 0o700) != nil {
		return nil
	}
	return []string{"CC=" + p + " " + cc, "LKMTEST_PCH_SELF=" + self}
}

// compile is a compiler command line as the wrapper sees it.
type compile struct {
	Args    []string `json:"args"`    // the compiler and its arguments
	Out     int      `json:"out"`     // index of the output's path (after -o)
	Dep     int      `json:"dep"`     // index of -Wp,-MMD,PATH (-1: none)
	Src     int      `json:"src"`     // index of the source (the last)
	Include []int    `json:"include"` // indexes of the files after -include
	Prefix  string   `json:"prefix"`  // the source's leading #include <...> lines
	Dir     string   `json:"dir"`     // the working directory (the kernel's build directory)
}

// parseCompile reads a module source's compile; ok is false when it is not
// one lkmtest knows how to give a PCH (then it runs as it is).
func parseCompile(args []string) (c compile, ok bool) {
	c = compile{Args: args, Out: -1, Dep: -1, Src: len(args) - 1}
	if len(args) < 4 || !strings.HasSuffix(args[c.Src], ".c") {
		return c, false
	}
	compileOnly := false
	for i := 1; i < len(args)-1; i++ {
		a := args[i]
		switch {
		case a == "-c":
			compileOnly = true
		case a == "-o" && i+1 < len(args)-1:
			c.Out = i + 1
			i++
		case a == "-include" && i+1 < len(args)-1:
			c.Include = append(c.Include, i+1)
			i++
		case strings.HasPrefix(a, "-Wp,-MMD,") || strings.HasPrefix(a, "-Wp,-MD,"):
			c.Dep = i
		case a == "-imacros", a == "-x", a == "-E", a == "-S", strings.HasPrefix(a, "-include"),
			strings.HasPrefix(a, "-Wp,") && strings.Contains(a, "-MF"):
			return c, false // not a plain compile of one C file
		}
	}
	return c, compileOnly && c.Out > 0 && len(c.Include) > 0
}

// key is the PCH's key: the command but its output, dependency file and
// source, the working directory and the prefix.
func (c compile) key() string {
	h := sha256.New()
	for i, a := range c.Args {
		if i == c.Out || i == c.Dep || i == c.Src {
			a = "<>"
		}
		fmt.Fprintf(h, "%q\n", a)
	}
	fmt.Fprintf(h, "%q\n%q\n", c.Dir, c.Prefix)
	return hex.EncodeToString(h.Sum(nil))[:24]
}

var (
	includeLine = regexp.MustCompile(`^[ \t]*#[ \t]*include[ \t]*<[^<>"]+>[ \t]*$`)
	defineLine  = regexp.MustCompile(`^[ \t]*#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*([( \t].*)?$`)
)

// includePrefix is the source's prefix: its leading #include <...> lines
// and one-line #define lines (pr_fmt, DEBUG), in order, before any line
// but blank lines and comments (an #ifdef, an #undef or a "local.h" ends
// it, as does a comment after an #include on its line or in a #define),
// "" when it has no #include.
func includePrefix(src []byte) string {
	var out []string
	includes := 0
	inComment := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if inComment {
			end := strings.Index(l, "*/")
			if end < 0 {
				continue
			}
			inComment = false
			if strings.TrimSpace(l[end+2:]) != "" {
				break // code after a comment
			}
			continue
		}
		t := strings.TrimSpace(l)
		switch {
		case t == "", strings.HasPrefix(t, "//"):
			continue
		case strings.HasPrefix(t, "/*"):
			end := strings.Index(t[2:], "*/")
			if end < 0 {
				inComment = true
				continue
			}
			if strings.TrimSpace(t[2+end+2:]) != "" {
				break // code after a comment
			}
			continue
		case includeLine.MatchString(l):
			out = append(out, strings.TrimSpace(l))
			includes++
			continue
		case defineLine.MatchString(l) && !strings.HasSuffix(t, `\`) && !strings.Contains(t, "/*") && !strings.Contains(t, "//"):
			out = append(out, strings.TrimSpace(l))
			continue
		}
		break
	}
	if includes == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// pchHeader is the text of the PCH's header: the -included files, then
// the prefix.
func (c compile) pchHeader() string {
	var b strings.Builder
	for _, i := range c.Include {
		fmt.Fprintf(&b, "#include %q\n", c.Args[i])
	}
	b.WriteString(c.Prefix)
	return b.String()
}

// withPCH is the command that compiles with the PCH whose header is
// header: its -include files dropped, header -included in their place.
func (c compile) withPCH(header string) []string {
	drop := map[int]bool{}
	for _, i := range c.Include {
		drop[i-1], drop[i] = true, true
	}
	var out []string
	for i, a := range c.Args {
		if i == c.Include[0]-1 {
			out = append(out, "-include", header)
		}
		if !drop[i] {
			out = append(out, a)
		}
	}
	return out
}

// outputTo is the compile with its output (and dependency file) at out.
func (c compile) outputTo(out string) compile {
	c.Args = append([]string{}, c.Args...)
	c.Args[c.Out] = out
	if c.Dep >= 0 {
		c.Args[c.Dep] = "-Wp,-MMD," + out + ".d"
	}
	return c
}

// flagsOnly is the command's arguments without its output, dependency
// file, source and -include files (the PCH's own compiles add theirs).
func (c compile) flagsOnly() []string {
	drop := map[int]bool{0: true, c.Src: true, c.Out - 1: true, c.Out: true}
	if c.Dep >= 0 {
		drop[c.Dep] = true
	}
	for _, i := range c.Include {
		drop[i-1], drop[i] = true, true
	}
	var out []string
	for i, a := range c.Args {
		if !drop[i] && a != "-c" {
			out = append(out, a)
		}
	}
	return out
}

// The files of one PCH, in dir/<key>/.
const (
	pchHeaderFile = "pre.h"    // its header (pre.h.gch beside it)
	pchDepsFile   = "deps"     // its dependency file (-MMD)
	pchOKFile     = "ok"       // it passed the checks
	pchNoFile     = "unusable" // it did not: why (never built again)
	pchUsesFile   = "uses"     // a byte per compile that used it
)

// CompileMain is lkmtest __cc DIR COMPILER ARGS...: one compile of a
// module's source, with the PCH of DIR when there is one (see pch.go). It
// returns the compiler's exit status.
func CompileMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "lkmtest __cc: usage: lkmtest __cc PCH_DIR COMPILER ARGS...")
		return 2
	}
	dir, argv := args[0], args[1:]
	c, ok := parseCompile(argv)
	if ok {
		if src, err := os.ReadFile(argv[c.Src]); err == nil {
			c.Prefix = includePrefix(src)
		}
		c.Dir, _ = os.Getwd()
		ok = c.Prefix != ""
	}
	if !ok {
		return execCompiler(argv)
	}
	key := c.key()
	p := filepath.Join(dir, key)
	if _, err := os.Stat(filepath.Join(p, pchOKFile)); err != nil {
		wish(dir, key, c)
		return execCompiler(argv)
	}
	_ = os.Chtimes(p, time.Now(), time.Now()) // recently used
	_ = appendFile(filepath.Join(p, pchUsesFile), []byte{'.'})
	cmd := exec.Command(argv[0], c.withPCH(filepath.Join(p, pchHeaderFile))[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "lkmtest __cc: %v\n", err)
		return 1
	}
	if c.Dep >= 0 {
		// The headers the PCH holds, as a second rule of the same file:
		// fixdep takes its first prerequisite (the PCH's header) for a
		// source and lists the rest.
		deps, err := os.ReadFile(filepath.Join(p, pchDepsFile))
		if err == nil {
			err = appendFile(depPath(argv[c.Dep]), deps)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "lkmtest __cc: dependencies: %v\n", err)
			return 1
		}
	}
	return 0
}

func depPath(arg string) string {
	for _, p := range []string{"-Wp,-MMD,", "-Wp,-MD,"} {
		if s, ok := strings.CutPrefix(arg, p); ok {
			return s
		}
	}
	return ""
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// execCompiler replaces this process with the compiler.
func execCompiler(argv []string) int {
	path, err := exec.LookPath(argv[0])
	if err == nil {
		err = syscall.Exec(path, argv, os.Environ())
	}
	fmt.Fprintf(os.Stderr, "lkmtest __cc: %s: %v\n", argv[0], err)
	return 127
}

// wish records a compile that had no PCH: the second of the same key makes
// it pending (BuildPCHs builds it).
func wish(dir, key string, c compile) {
	w := filepath.Join(dir, "wish", key)
	if _, err := os.Stat(filepath.Join(dir, key, pchNoFile)); err == nil {
		return // checked before, and unusable
	}
	if _, err := os.Stat(w); err == nil {
		_ = os.WriteFile(w+".again", nil, 0o600)
		return
	}
	if b, err := json.Marshal(c); err == nil {
		_ = cache.WriteFileAtomic(w, b, 0o600)
	}
}

// PendingPCHs reports whether dir (a kernel's PCH directory) has wishes
// compiled twice, for BuildPCHs.
func PendingPCHs(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "wish", "*.again"))
	return len(m) > 0
}

// maxPCHs bounds the PCHs kept per kernel (the least recently used go):
// each is some 40 MB.
const maxPCHs = 8

// BuildPCHs builds the PCHs wished for twice in dir (see pch.go) for the
// kernel whose trees are roots (its build directory and its source), and
// keeps at most maxPCHs. A PCH that fails a check is recorded as unusable,
// with why, and never built again.
func BuildPCHs(ctx context.Context, dir string, roots []string, log io.Writer) error {
	again, _ := filepath.Glob(filepath.Join(dir, "wish", "*.again"))
	var errs []error
	for _, a := range again {
		w := strings.TrimSuffix(a, ".again")
		key := filepath.Base(w)
		b, err := os.ReadFile(w)
		_ = os.Remove(a)
		_ = os.Remove(w)
		if err != nil {
			continue
		}
		var c compile
		if err := json.Unmarshal(b, &c); err != nil {
			continue
		}
		if err := buildPCH(ctx, dir, key, c, roots); err != nil {
			errs = append(errs, fmt.Errorf("PCH %s: %w", key, err))
			continue
		}
		fmt.Fprintf(log, "%s PCH %s for %s\n", time.Now().Format(time.RFC3339), key, c.Args[c.Src])
	}
	prunePCHs(dir)
	return errors.Join(errs...)
}

func buildPCH(ctx context.Context, dir, key string, c compile, roots []string) error {
	final := filepath.Join(dir, key)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(dir, key+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	scratch, err := os.MkdirTemp(dir, key+".check-") // the checks' files
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	unusable := func(why string) error {
		_ = os.MkdirAll(final, 0o700)
		_ = os.WriteFile(filepath.Join(final, pchNoFile), []byte(why+"\n"), 0o600)
		return errors.New(why)
	}
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, c.Args[0], args...)
		cmd.Dir = c.Dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %v: %s", c.Args[0], err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	header := filepath.Join(tmp, pchHeaderFile)
	if err := os.WriteFile(header, []byte(c.pchHeader()), 0o600); err != nil {
		return err
	}
	flags := c.flagsOnly()

	// Including the prefix a second time must add nothing.
	once, twice := filepath.Join(scratch, "once.c"), filepath.Join(scratch, "twice.c")
	if err := os.WriteFile(once, nil, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(twice, []byte(c.Prefix), 0o600); err != nil {
		return err
	}
	for _, f := range []string{once, twice} {
		if err := run(append(append([]string{}, flags...), "-E", "-P", "-include", header, "-o", f+".i", f)...); err != nil {
			return unusable("preprocess: " + err.Error())
		}
	}
	a, _ := os.ReadFile(once + ".i")
	b, _ := os.ReadFile(twice + ".i")
	if !bytes.Equal(a, b) || len(a) == 0 {
		return unusable("the prefix included a second time is not empty (a header without an include guard?)")
	}

	// The PCH, and what it holds: the kernel's headers only.
	deps := filepath.Join(tmp, pchDepsFile)
	if err := run(append(append([]string{}, flags...), "-x", "c-header", "-Wp,-MMD,"+deps, "-o", header+".gch", header)...); err != nil {
		return unusable("build: " + err.Error())
	}
	if why := outsideRoots(deps, header, c.Dir, roots); why != "" {
		return unusable(why)
	}

	// The same object with it as without (the outputs in scratch).
	plainOut, withOut := filepath.Join(scratch, "plain.o"), filepath.Join(scratch, "with.o")
	if err := run(c.outputTo(plainOut).Args[1:]...); err != nil {
		return fmt.Errorf("compile without the PCH: %w", err) // the source changed since: try again later
	}
	if err := run(append(c.outputTo(withOut).withPCH(header)[1:], "-Winvalid-pch")...); err != nil {
		return unusable("compile with the PCH: " + err.Error())
	}
	po, _ := os.ReadFile(plainOut)
	wo, _ := os.ReadFile(withOut)
	if len(po) == 0 || !bytes.Equal(po, wo) {
		return unusable("the object compiled with the PCH differs from the one without")
	}
	if err := os.WriteFile(filepath.Join(tmp, pchOKFile), nil, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, pchUsesFile), nil, 0o600); err != nil {
		return err
	}
	// The dependency file names the header where it was built (tmp):
	// name it where it will be.
	if d, err := os.ReadFile(deps); err == nil {
		_ = os.WriteFile(deps, bytes.ReplaceAll(d, []byte(tmp), []byte(final)), 0o600)
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return nil
}

// outsideRoots says which of the PCH's dependencies (its -MMD file) is
// outside the kernel's trees, or "".
func outsideRoots(depFile, header, wd string, roots []string) string {
	b, err := os.ReadFile(depFile)
	if err != nil {
		return "no dependency file: " + err.Error()
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	_, list, ok := strings.Cut(text, ":")
	if !ok {
		return "unreadable dependency file"
	}
	var real []string
	for _, r := range roots {
		if p, err := filepath.EvalSymlinks(r); err == nil {
			real = append(real, p)
		}
	}
	for _, d := range strings.Fields(list) {
		if d == header {
			continue
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(wd, d)
		}
		p, err := filepath.EvalSymlinks(d)
		if err != nil {
			return fmt.Sprintf("header %s: %v", d, err)
		}
		inside := false
		for _, r := range real {
			if p == r || strings.HasPrefix(p, r+"/") {
				inside = true
				break
			}
		}
		if !inside {
			return fmt.Sprintf("header %s is not the kernel's (it could change)", d)
		}
	}
	return ""
}

// prunePCHs removes the least recently used PCHs beyond maxPCHs, and
// what killed builds left.
func prunePCHs(dir string) {
	ents, _ := os.ReadDir(dir)
	type pch struct {
		path string
		used time.Time
	}
	var all []pch
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), ".check-") {
			// A build that was killed (builds hold build.lock: an hour
			// old is nobody's).
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				_ = os.RemoveAll(p)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(p, pchOKFile)); err != nil {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			all = append(all, pch{p, fi.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].used.After(all[j].used) })
	for _, p := range all[min(len(all), maxPCHs):] {
		_ = os.RemoveAll(p.path)
	}
}

// compiler is the C compiler kbuild uses for k: $(CROSS_COMPILE)gcc.
func (k Kernel) compiler() string {
	for _, a := range k.MakeArgs {
		if p, ok := strings.CutPrefix(a, "CROSS_COMPILE="); ok {
			return p + "gcc"
		}
	}
	return "gcc"
}

// PCHDir is a kernel's PCH directory (in its probe directory).
func (k Kernel) PCHDir() string { return filepath.Join(k.ProbeDir, "pch") }

// PCHWork is a kernel's PCH directory and the trees whose headers a PCH of
// it may hold (BuildPCHs).
type PCHWork struct {
	Dir   string   `json:"dir"`
	Roots []string `json:"roots"`
}

var pchDirs = struct {
	sync.Mutex
	m map[string]PCHWork
}{m: map[string]PCHWork{}}

func notePCHDir(k Kernel) {
	pchDirs.Lock()
	pchDirs.m[k.PCHDir()] = PCHWork{Dir: k.PCHDir(), Roots: []string{k.BuildDir, filepath.Join(k.BuildDir, "source")}}
	pchDirs.Unlock()
}

// SpawnPCHBuilds starts, for each kernel whose PCH directory this
// process's module builds compiled through and whose sources wait for a
// PCH (PendingPCHs), self pch build WORK (BuildPCHs), in a session of its
// own that outlives this process, its notes appended to build.log there.
func SpawnPCHBuilds(self string) error {
	var errs []error
	for _, w := range pendingPCHWork() {
		b, err := json.Marshal(w)
		if err == nil {
			err = proc.Detach(filepath.Join(w.Dir, "build.log"), self, []string{"pch", "build", string(b)})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.Dir, err))
		}
	}
	return errors.Join(errs...)
}

// pendingPCHWork is the PCH directories this process's module builds
// compiled through whose sources wait for a PCH (PendingPCHs).
func pendingPCHWork() []PCHWork {
	pchDirs.Lock()
	defer pchDirs.Unlock()
	var out []PCHWork
	for _, w := range pchDirs.m {
		if PendingPCHs(w.Dir) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}
