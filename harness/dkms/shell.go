package dkms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// evalTimeout bounds the evaluation of a dkms.conf (a loop that never ends
// is an error, not a hang).
var evalTimeout = 10 * time.Second

// builtins are the shell builtins a dkms.conf may use: what a
// configuration needs to set variables and test conditions.
var builtins = map[string]bool{
	"true": true, ":": true, "false": true, "echo": true, "printf": true, "test": true, "[": true,
	".": true, "source": true, "unset": true, "set": true, "return": true, "break": true, "continue": true,
	"shift": true,
}

// tools are the programs a dkms.conf may run: they only read (sed without
// -i). nproc and uname are answered for the target kernel.
var tools = map[string]bool{
	"nproc": true, "uname": true, "sort": true, "grep": true, "egrep": true, "fgrep": true, "cut": true,
	"head": true, "tail": true, "tr": true, "wc": true, "cat": true, "sed": true, "basename": true,
	"dirname": true, "expr": true, "getconf": true,
}

// parse reads and parses a dkms.conf (DOS line endings dropped, as DKMS
// strips a trailing CR from every value).
func parse(file string) (*syntax.File, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("dkms: %w", err)
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(b), file)
	if err != nil {
		return nil, fmt.Errorf("%v (a dkms.conf is a bash fragment that DKMS sources)", err)
	}
	return f, nil
}

// Check parses the dkms.conf file and checks that it uses only what
// lkmtest evaluates (see the package comment), without running it: a
// mistake is reported before any kernel is built, with its line.
func Check(file string) error {
	f, err := parse(file)
	if err != nil {
		return err
	}
	return check(f, file)
}

// check walks f for commands lkmtest does not run, reporting the first.
func check(f *syntax.File, file string) error {
	funcs := map[string]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok {
			funcs[fd.Name.Value] = true
		}
		return true
	})
	var bad error
	at := func(n syntax.Node, format string, args ...any) {
		if bad == nil {
			bad = fmt.Errorf("%s:%d: %s", file, n.Pos().Line(), fmt.Sprintf(format, args...))
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if bad != nil {
			return false
		}
		switch n := n.(type) {
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				return true // assignments only
			}
			name := n.Args[0].Lit()
			switch {
			case name == "":
				at(n, "a command whose name is computed (%s) is not supported in a dkms.conf by lkmtest: name the command", wordText(n.Args[0]))
			case builtins[name] || funcs[name]:
			case tools[name]:
				if name == "sed" {
					for _, a := range n.Args[1:] {
						if l := a.Lit(); strings.HasPrefix(l, "-i") || l == "--in-place" || (strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") && strings.Contains(l, "i")) {
							at(n, "sed %s writes a file: a dkms.conf is evaluated without writing anything", l)
						}
					}
				}
			default:
				at(n, "%s: lkmtest evaluates a dkms.conf without running other programs than %s and the builtins %s; move the work into MAKE, PRE_BUILD or the package's Makefile", name, sortedKeys(tools), sortedKeys(builtins))
			}
		case *syntax.CoprocClause:
			at(n, "coproc is not supported in a dkms.conf by lkmtest")
		case *syntax.ProcSubst:
			at(n, "process substitution is not supported in a dkms.conf by lkmtest")
		}
		return true
	})
	return bad
}

// wordText prints a word as written.
func wordText(w *syntax.Word) string {
	var b strings.Builder
	_ = syntax.NewPrinter().Print(&b, w)
	return b.String()
}

// evaluate runs the dkms.conf file with env's variables, as DKMS sources
// it, and returns every variable it leaves.
func evaluate(ctx context.Context, file string, env Env) (map[string]expand.Variable, error) {
	f, err := parse(file)
	if err != nil {
		return nil, err
	}
	if err := check(f, file); err != nil {
		return nil, err
	}
	jobs := env.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	vars := append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "HOME=/nonexistent"}, env.Vars()...)
	var stderr bytes.Buffer
	r, err := interp.New(
		interp.Env(expand.ListEnviron(vars...)),
		interp.Dir(filepath.Dir(absPath(file))),
		interp.StdIO(nil, io.Discard, &stderr), // DKMS sources it with stdout to /dev/null
		interp.OpenHandler(readOnly),
		interp.ExecHandlers(func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			return func(ctx context.Context, args []string) error {
				hc := interp.HandlerCtx(ctx)
				switch args[0] {
				case "nproc":
					fmt.Fprintln(hc.Stdout, jobs)
					return nil
				case "uname":
					return uname(hc.Stdout, args[1:], env)
				}
				if !tools[args[0]] {
					return fmt.Errorf("%s: %s: lkmtest evaluates a dkms.conf without running other programs than %s", file, args[0], sortedKeys(tools))
				}
				return next(ctx, args)
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("dkms: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, evalTimeout)
	defer cancel()
	err = r.Run(ctx, f)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: evaluating it took more than %s: a loop that does not end?", file, evalTimeout)
	}
	if _, exit := interp.IsExitStatus(err); err != nil && !exit {
		return nil, err
	}
	// A failing last command (a test that is false) is not an error:
	// DKMS ignores the status of sourcing the file.
	return r.Vars, nil
}

// readOnly opens files for reading only (writes go nowhere but /dev/null).
func readOnly(ctx context.Context, path string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC) != 0 {
		if path == "/dev/null" {
			return nopWriter{}, nil
		}
		return nil, fmt.Errorf("dkms.conf writes %s: lkmtest evaluates a dkms.conf without writing files", path)
	}
	return interp.DefaultOpenHandler()(ctx, path, flag, perm)
}

type nopWriter struct{}

func (nopWriter) Read([]byte) (int, error)    { return 0, io.EOF }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) Close() error                { return nil }

// uname answers for the target kernel: -r its release, -m (and -p, -i)
// the DKMS arch, -s (or nothing) Linux.
func uname(w io.Writer, args []string, env Env) error {
	var out []string
	if len(args) == 0 {
		args = []string{"-s"}
	}
	for _, a := range args {
		switch a {
		case "-r", "--kernel-release":
			out = append(out, env.KernelVer)
		case "-m", "-p", "-i", "--machine":
			out = append(out, env.Arch)
		case "-s", "--kernel-name", "-o":
			out = append(out, "Linux")
		default:
			return errors.New("uname " + a + ": lkmtest answers only uname -r, -m and -s in a dkms.conf (the target kernel's)")
		}
	}
	_, err := fmt.Fprintln(w, strings.Join(out, " "))
	return err
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func sortedKeys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
