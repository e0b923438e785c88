package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness"
	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/dkms"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/kconfig"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/report"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// 'lkmtest build' is the compile-only matrix: every DIR's modules built
// against the prepared tree (make modules_prepare, no vmlinux, no boot) of
// every --kernel x --arch, each cell reported as built (its .ko files) or
// with the first compiler error at its file:line. Its results.json is
// run's (lkmtest.results/v1), one record per directory and cell, read
// thus:
//   - outcome PASS: built; steps[] holds one step per .ko ("name.ko",
//     reason: the built file); reason, when set, counts the compiler's
//     warnings and names the first.
//   - outcome FAIL: a module did not compile; reason is the first
//     compiler (or modpost) error as the compiler printed it, with the
//     user's paths; file and line are that error's source file and line
//     (the spec file when the error names none); excerpt is the
//     compiler's output around it; steps[] has a FAIL step per module
//     that was not built, with its own first error.
//   - outcome SKIP: a DKMS BUILD_EXCLUSIVE_* directive or the spec's
//     requires: rules the kernel out (reason says which).
//   - outcome ERROR: the kernel could not be prepared (stage resolve,
//     configure, build or tool), or the build could not run (a dkms.conf
//     that cannot be evaluated; stage modules).
//   - stage is "modules" for FAIL too; modules_ns and duration_ns are the
//     build's time; dir holds build/<n>-<dir>/build.log and the .ko files.

// buildFlags are the flags of 'lkmtest build'.
type buildFlags struct {
	out, format string
	jsonOut, w1 bool
}

func newBuildCmd(c *common) *cobra.Command {
	f := &buildFlags{}
	cmd := &cobra.Command{
		Use:   "build [DIR...]",
		Short: "Compile-only matrix: build modules against each kernel's prepared tree, no boot",
		Long: `Build the modules of each DIR against the prepared tree of every --kernel x
--arch: the kernel configured with lkmtest's fragments as for a run, then only
'make modules_prepare' (no vmlinux, no boot; cached in kernels-prepared/).
A DIR is a module directory (Kbuild or Makefile), a directory with a
test.yaml (its modules: are built), a DKMS package (a dkms.conf: its MAKE is
run as DKMS runs it, with $kernelver and $kernel_source_dir pointed at the
prepared tree), a test name of the suite, or a directory of tests. With no
DIR, the current directory.

Each cell is built (its .ko files) or the first compiler error at file:line;
a DKMS BUILD_EXCLUSIVE_* directive that rules a kernel out is SKIP. A prepared
tree has no Module.symvers, so modpost's unresolved symbols are warnings here
(KBUILD_MODPOST_WARN=1): only 'lkmtest run' links against the kernel's exports.

The run directory (--out) gets results.json and junit.xml (the records of
'lkmtest run', one per directory and cell) and each cell's build logs and .ko
files. Under GitHub Actions (GITHUB_ACTIONS=true) each distinct compiler error
is an annotation on its file:line (naming the cells), each warning a warning
annotation, and a summary goes to $GITHUB_STEP_SUMMARY.

Exit status: 0 everything built, 1 a build failed, 2 usage or infrastructure
error, 3 nothing was built (every cell SKIP).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(c, cmd, f, args)
		},
	}
	c.addTargetFlags(cmd)
	_ = cmd.Flags().MarkHidden("accel")
	cmd.Flags().StringVar(&f.out, "out", "", "run directory for logs, modules and results, new or empty (default: a new ./lkmtest-out/<time>)")
	cmd.Flags().StringVar(&f.format, "format", "text", "what to print on stdout: text or json (results.json)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "same as --format json")
	cmd.Flags().BoolVar(&f.w1, "w1", false, "build with W=1 (the kernel's extra warnings)")
	return cmd
}

// buildUnit is one directory to build: a row of the matrix.
type buildUnit struct {
	// spec names its modules (a spec-less one for a module directory or
	// a DKMS package); its helpers are not built.
	spec *spec.Spec
	// file identifies it in the records: the test.yaml, the dkms.conf,
	// or the directory's Kbuild or Makefile.
	file string
	// variant is its spec's boot.config ("" for none).
	variant string
	// dirs are its module directories.
	dirs []string
}

// runBuild is 'lkmtest build'.
func runBuild(c *common, cmd *cobra.Command, f *buildFlags, args []string) error {
	if f.jsonOut {
		f.format = "json"
	}
	if f.format != "text" && f.format != "json" {
		return fmt.Errorf("--format %q: want text or json", f.format)
	}
	units, err := buildUnits(args)
	if err != nil {
		return err
	}
	o, cells, err := c.options(cmd, "")
	if err != nil {
		return err
	}
	if f.out == "" {
		if f.out, err = newRunDir("lkmtest-out", time.Now()); err != nil {
			return err
		}
	} else if err := checkOutReuse(f.out); err != nil {
		return err
	}
	if f.out, err = filepath.Abs(f.out); err != nil {
		return err
	}
	o.Out = f.out
	started := time.Now()
	ctx, logw, endLive := c.liveView(cmd.Context())
	o.Log = logw
	m := buildMatrix(ctx, o, cells, units, f)
	endLive()
	for i := range m.tests {
		m.tests[i].Kind = result.KindBuild // 'lkmtest merge' keeps them apart from run's tests
	}
	rep := report.New(version(), started, m.cells, m.tests)
	rep.Interrupted = ctx.Err() != nil
	if werr := writeReports(f.out, rep); werr != nil {
		fmt.Fprintf(os.Stderr, "lkmtest: %v\n", werr)
	}
	if len(m.cells) == 1 && m.cellErr[0] != nil {
		return m.cellErr[0] // the one kernel could not be prepared
	}
	w := cmd.OutOrStdout()
	if f.format == "json" {
		_ = rep.WriteJSON(w)
	} else {
		writeBuildTable(w, rep)
		writeBuildFailures(w, rep)
	}
	if env := readEnv(); env.githubActions {
		aw := io.Writer(os.Stderr)
		if f.format == "text" {
			aw = os.Stdout
		}
		root := env.githubWorkspace
		if root == "" {
			root, _ = os.Getwd()
		}
		for _, a := range buildAnnotations(rep, root) {
			fmt.Fprintln(aw, a)
		}
		githubSummary(rep, env.githubStepSummary)
	}
	if cmd.Context().Err() != nil {
		return cmd.Context().Err()
	}
	fmt.Fprintf(os.Stderr, "artefacts: %s\n", f.out)
	for j, e := range m.cellErr {
		if e != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", m.cells[j].Label(), e)
		}
	}
	return verdictExit(os.Stderr, rep.OK(), rep.Totals.Passed, rep.Totals.Skipped)
}

// buildUnits resolves the arguments of 'lkmtest build' (see its help).
func buildUnits(args []string) ([]*buildUnit, error) {
	if len(args) == 0 {
		args = []string{"."}
	}
	var units []*buildUnit
	var errs []error
	for _, a := range args {
		us, err := unitsOf(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		units = append(units, us...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	seen := map[string]string{}
	for _, u := range units {
		if prev, dup := seen[u.spec.Name]; dup {
			return nil, fmt.Errorf("two directories give the name %q (%s and %s): a name must be unique in the report; give one of them a test.yaml with another name", u.spec.Name, prev, u.spec.Dir)
		}
		seen[u.spec.Name] = u.spec.Dir
		for _, d := range u.dirs {
			if dkms.Has(d) {
				if err := dkms.Check(filepath.Join(d, dkms.ConfName)); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return units, errors.Join(errs...)
}

// unitsOf is what one argument names.
func unitsOf(a string) ([]*buildUnit, error) {
	st, err := os.Stat(a)
	if err != nil {
		// A test of the suite, by name.
		specs, err := harness.SelectSpecs(defaultSuite(), []string{a})
		if err != nil {
			return nil, err
		}
		return specUnits(specs), nil
	}
	dir := a
	if !st.IsDir() {
		switch filepath.Base(a) {
		case spec.FileName:
			s, err := spec.Load(a)
			if err != nil {
				return nil, err
			}
			return specUnits([]*spec.Spec{s}), nil
		case dkms.ConfName:
			dir = filepath.Dir(a)
		default:
			return nil, fmt.Errorf("%s is a file: give a module directory, a DKMS package (with a dkms.conf), a %s or a test name", a, spec.FileName)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, spec.FileName)); err == nil {
		s, err := spec.Load(filepath.Join(abs, spec.FileName))
		if err != nil {
			return nil, err
		}
		return specUnits([]*spec.Spec{s}), nil
	}
	file := ""
	switch {
	case dkms.Has(abs):
		file = filepath.Join(abs, dkms.ConfName)
	case spec.HasBuildFile(abs):
		for _, n := range []string{"Kbuild", "Makefile", "makefile", "GNUmakefile"} {
			if _, err := os.Stat(filepath.Join(abs, n)); err == nil {
				file = filepath.Join(abs, n)
				break
			}
		}
	default:
		specs, err := spec.Find(abs)
		if err != nil {
			return nil, err
		}
		if len(specs) == 0 {
			return nil, fmt.Errorf("%s has no Kbuild, Makefile, dkms.conf or %s, and no test below it: give a module directory, a DKMS package or a suite", a, spec.FileName)
		}
		return specUnits(specs), nil
	}
	s := &spec.Spec{Name: spec.SmokeName(abs), File: file, Dir: abs, Modules: []string{"."}, SpecLess: true}
	return []*buildUnit{{spec: s, file: file, dirs: []string{abs}}}, nil
}

// specUnits are the units of specs (their modules, without helpers).
func specUnits(specs []*spec.Spec) []*buildUnit {
	var out []*buildUnit
	for _, s := range specs {
		cp := *s
		cp.Helpers = nil
		u := &buildUnit{spec: &cp, file: s.File, variant: specVariantOf(s)}
		for _, m := range s.Modules {
			d, _ := filepath.Abs(filepath.Join(s.Dir, m))
			u.dirs = append(u.dirs, d)
		}
		out = append(out, u)
	}
	return out
}

// specVariantOf is a spec's boot.config as a fragment reference: the
// reference itself for lkmtest's own, else its absolute path.
func specVariantOf(s *spec.Spec) string {
	c := s.Boot.Config
	if c == "" || strings.HasPrefix(c, "lkmtest:") {
		return c
	}
	p, _ := filepath.Abs(filepath.Join(s.Dir, c))
	return p
}

// buildResults are the outcome of the matrix.
type buildResults struct {
	cells   []result.Cell // the cells as asked, their releases filled in
	cellErr []error       // why a cell's kernel could not be prepared
	tests   []result.Test
}

// buildMatrix prepares each cell's tree (one variant after another) and
// builds every unit of it, up to -j builds at once.
func buildMatrix(ctx context.Context, o *harness.Options, cells []harness.Cell, units []*buildUnit, f *buildFlags) *buildResults {
	m := &buildResults{}
	var variants []string
	seen := map[string]bool{}
	for _, u := range units {
		if !seen[u.variant] {
			seen[u.variant] = true
			variants = append(variants, u.variant)
		}
	}
	sort.Strings(variants)
	for _, c := range cells {
		rc := result.Cell{Kernel: c.Kernel, Arch: c.Arch, Variant: o.Variant}
		var cellErr error
		prepared := 0
		for _, v := range variants {
			if ctx.Err() != nil {
				return m
			}
			b, vc, err := preparedBuilder(ctx, o, c, v, f.w1)
			if err != nil {
				fmt.Fprintf(o.Log, "%s: %v\n", vc.Label(), err)
				cellErr = cmp.Or(cellErr, err)
				for _, u := range units {
					if u.variant == v {
						m.tests = append(m.tests, result.Test{Test: u.spec.Name, File: u.file, Cell: vc.Label(), Kernel: cmp.Or(vc.Release, vc.Kernel),
							Arch: vc.Arch, Variant: vc.Variant, Outcome: result.Error, Stage: result.StageOf(err), Modules: u.dirs,
							Reason: "kernel not prepared: " + firstLineOf(result.Describe(err))})
					}
				}
				continue
			}
			prepared++
			if v == "" || rc.Release == "" {
				rc.Release = vc.Release
			}
			m.tests = append(m.tests, buildUnitsOn(ctx, o, b, vc, units, v)...)
		}
		if prepared == 0 && cellErr != nil {
			rc.Error = cellErr.Error()
			m.cellErr = append(m.cellErr, cellErr)
		} else {
			m.cellErr = append(m.cellErr, nil)
		}
		m.cells = append(m.cells, rc)
	}
	return m
}

// buildUnitsOn builds the units of variant v with b, up to -j at once.
func buildUnitsOn(ctx context.Context, o *harness.Options, b *modbuild.Builder, vc result.Cell, units []*buildUnit, v string) []result.Test {
	var mine []*buildUnit
	for _, u := range units {
		if u.variant == v {
			mine = append(mine, u)
		}
	}
	out := make([]result.Test, len(mine))
	jobs := o.VMs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	host := preparedHost(b, vc)
	for i, u := range mine {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = buildOn(ctx, b, u, vc, filepath.Join(o.Out, vc.Label(), u.spec.Name), host)
			fmt.Fprintf(o.Log, "build %s on %s: %s\n", u.spec.Name, vc.Label(), buildWord(out[i]))
		}()
	}
	wg.Wait()
	return out
}

// preparedBuilder prepares the tree of cell c with the boot.config
// fragment v ("" for none) and returns a module builder for it and the
// cell it makes.
func preparedBuilder(ctx context.Context, base *harness.Options, c harness.Cell, v string, w1 bool) (*modbuild.Builder, result.Cell, error) {
	o := *base
	o.Kernel, o.Arch = c.Kernel, arch.Arch(c.Arch)
	vc := result.Cell{Kernel: c.Kernel, Arch: c.Arch, Variant: o.Variant}
	if v != "" {
		frag, err := harness.ReadFragment(v)
		if err != nil {
			return nil, vc, err
		}
		o.Extra = append(append([]kbuild.Fragment(nil), o.Extra...), frag)
		name := harness.VariantName(v)
		if o.Variant != "" {
			name = o.Variant + "+" + name
		}
		o.Variant, vc.Variant = name, name
	}
	src, err := harness.Source(ctx, &o)
	if err != nil {
		return nil, vc, err
	}
	frags, err := harness.Fragments(o.Arch)
	if err != nil {
		return nil, vc, err
	}
	verbose := io.Discard
	if o.Verbose {
		verbose = o.Log
	}
	req := kbuild.KernelRequest{Source: src, Arch: o.Arch, Fragments: append(frags, o.Extra...), Jobs: o.Jobs, Log: verbose,
		OnMiss: func() {
			fmt.Fprintf(o.Log, "kernel %s %s: no prepared tree in the cache, preparing it (make modules_prepare; -v shows it)\n", src.Version, o.Arch)
		}}
	k, err := kbuild.PrepareKernel(ctx, o.Cache, req)
	if err != nil {
		stage := result.StageBuild
		var missing *hostdeps.MissingTool
		var lost *kconfig.ValidationError
		switch {
		case errors.As(err, &missing):
			stage = result.StageTool
		case errors.As(err, &lost):
			stage = result.StageConfigure
		}
		return nil, vc, result.InStage(stage, fmt.Errorf("kernel %s %s: %w", src.Version, o.Arch, err))
	}
	vc.Release = k.Meta.KernelVersion
	if k.Built {
		fmt.Fprintf(o.Log, "kernel %s %s: prepared in %.0fs (configure %.0fs, modules_prepare %.0fs), cached as %s\n",
			src.Version, o.Arch, k.Meta.ConfigureSeconds+k.Meta.BuildSeconds, k.Meta.ConfigureSeconds, k.Meta.BuildSeconds, k.Dir)
	}
	mk := modbuild.Kernel{BuildDir: k.BuildDir, Key: k.Key, Version: k.Meta.KernelVersion,
		MakeArgs: append(kbuild.MakeArgs(o.Arch, k.Meta.KernelVersion), kbuild.PreparedMakeArgs...)}
	if w1 {
		mk.Key = cache.Key(k.Key, "W=1")
		mk.MakeArgs = append(mk.MakeArgs, "W=1")
	}
	if !o.NoProbeMemo {
		mk.ProbeDir = k.ProbeDir
		mk.TryRun = modbuild.TryRunStyle(filepath.Join(k.BuildDir, "source"))
		mk.Modpost = modbuild.ModpostWrappable(filepath.Join(k.BuildDir, "source"))
	}
	return &modbuild.Builder{Cache: o.Cache, Arch: o.Arch, Kernel: mk, Log: verbose}, vc, nil
}

// preparedHost is what a spec's requires: are checked against on a
// prepared tree: its arch, release and .config (not this host's CPUs and
// memory: nothing runs).
func preparedHost(b *modbuild.Builder, vc result.Cell) spec.Host {
	h := spec.Host{Arch: vc.Arch, Kernel: vc.Release, CPUs: math.MaxInt32, MemoryMiB: math.MaxInt32}
	if text, err := os.ReadFile(filepath.Join(b.Kernel.BuildDir, ".config")); err == nil {
		if cfg, err := kconfig.Parse(".config", string(text)); err == nil {
			h.Config = cfg.Get
		}
	}
	return h
}

// buildOn builds one unit with b into dir and makes its record.
func buildOn(ctx context.Context, b *modbuild.Builder, u *buildUnit, vc result.Cell, dir string, host spec.Host) (r result.Test) {
	t0 := time.Now()
	r = result.Test{Test: u.spec.Name, File: u.file, Cell: vc.Label(), Kernel: vc.Release, Arch: vc.Arch, Variant: vc.Variant,
		Outcome: result.Pass, Modules: u.dirs, Dir: dir}
	defer func() { r.DurationNS = time.Since(t0).Nanoseconds(); r.ModulesNS = r.DurationNS }()
	if why := u.spec.Requires.Unmet(host); why != "" {
		r.Outcome, r.Reason = result.Skip, why
		return r
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.Outcome, r.Stage, r.Reason = result.Error, result.StageModules, err.Error()
		return r
	}
	set := b.Build(ctx, u.spec, dir)
	if set.Skip != "" {
		r.Outcome, r.Reason = result.Skip, set.Skip
		return r
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "build", "*", "build.log"))
	sort.Strings(logs)
	var text strings.Builder
	firstLog := ""
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if firstLog == "" && modbuild.FirstCompilerError(string(b)) != "" {
			firstLog = l
		}
		text.Write(b)
	}
	out := text.String()
	first := modbuild.FirstCompilerError(out)
	names := make([]string, 0, len(set.Modules))
	for n := range set.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Steps = append(r.Steps, result.Step{Index: len(r.Steps) + 1, Step: n + ".ko", Outcome: result.Pass, Reason: set.Modules[n]})
	}
	failed := make([]string, 0, len(set.Errors))
	for n := range set.Errors {
		failed = append(failed, n)
	}
	sort.Strings(failed)
	for _, n := range failed {
		r.Steps = append(r.Steps, result.Step{Index: len(r.Steps) + 1, Step: n + ".ko", Outcome: result.Fail, Reason: set.Errors[n]})
	}
	switch {
	case set.Err != nil && first == "":
		// Not the compiler's: the build could not run.
		r.Outcome, r.Stage, r.Reason = result.Error, cmp.Or(result.StageOf(set.Err), result.StageModules), set.Err.Error()
		var missing *hostdeps.MissingTool
		if errors.As(set.Err, &missing) {
			r.Stage = result.StageTool
		}
	case set.Err != nil || len(set.Failed) > 0 || len(set.Errors) > 0:
		r.Outcome, r.Stage = result.Fail, result.StageModules
		if first == "" {
			first = strings.Join(set.Failed, "; ")
		}
		r.Reason = first
		if firstLog != "" {
			r.Reason += " (full log: " + firstLog + ")"
		}
		if file, line, _, ok := modbuild.CompilerErrorLocation(first); ok && filepath.IsAbs(file) {
			r.File, r.Line = file, line
		}
		r.Excerpt = errorContext(out, first)
	default:
		if ws := compilerWarnings(out); len(ws) > 0 {
			r.Reason = fmt.Sprintf("built with %d compiler warning(s); the first: %s", len(ws), ws[0])
		}
	}
	return r
}

// errorContext is the compiler's output around its first error: from the
// "In function" line before it to the notes and caret lines after it (at
// most 12 lines).
func errorContext(out, first string) []string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != first {
			continue
		}
		start := i
		if i > 0 && strings.Contains(lines[i-1], ": In function") {
			start = i - 1
		}
		end := i + 1
		for end < len(lines) && end-start < 12 && !strings.HasPrefix(lines[end], "make") &&
			(strings.HasPrefix(lines[end], " ") || strings.Contains(lines[end], ": note: ")) {
			end++
		}
		return lines[start:end]
	}
	return nil
}

// compilerWarnings are the distinct compiler warning lines of a build's
// output ("file.c:12:5: warning: ...").
func compilerWarnings(out string) []string {
	var ws []string
	seen := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if warningRE(l) && !seen[l] {
			seen[l] = true
			ws = append(ws, l)
		}
	}
	return ws
}

// warningRE reports whether l is a compiler warning with a source position.
func warningRE(l string) bool {
	i := strings.Index(l, ": warning: ")
	if i <= 0 {
		return false
	}
	file, _, _, ok := modbuild.CompilerErrorLocation(l[:i] + ": error: x")
	return ok && file != ""
}

// buildWord is a record's word in the table: built, FAIL, SKIP, ERROR.
func buildWord(t result.Test) string {
	if t.Outcome == result.Pass {
		return "built"
	}
	return string(t.Outcome)
}

// writeBuildTable writes the matrix: a row per directory, a column per
// cell as asked (a spec's kernel variant in its base cell's column).
func writeBuildTable(w io.Writer, rep *report.Run) {
	var cols []string
	for _, c := range rep.Cells {
		if c.Variant == "" || !hasBase(rep.Cells, c) {
			cols = append(cols, c.Label())
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "BUILD")
	for _, c := range cols {
		fmt.Fprintf(tw, "\t%s", c)
	}
	fmt.Fprintln(tw)
	var names []string
	byName := map[string]map[string]result.Test{}
	for _, t := range rep.Results {
		if byName[t.Test] == nil {
			byName[t.Test] = map[string]result.Test{}
			names = append(names, t.Test)
		}
		col := t.Cell
		if c := t.CellOf(); c.Variant != "" && hasBase(rep.Cells, c) {
			col = c.Base().Label()
		}
		byName[t.Test][col] = t
	}
	for _, n := range names {
		fmt.Fprint(tw, n)
		for _, c := range cols {
			t, ok := byName[n][c]
			switch {
			case !ok:
				fmt.Fprint(tw, "\t-")
			case t.Outcome == result.Pass && t.Reason != "":
				fmt.Fprintf(tw, "\tbuilt (warnings) %.1fs", time.Duration(t.DurationNS).Seconds())
			default:
				fmt.Fprintf(tw, "\t%s %.1fs", buildWord(t), time.Duration(t.DurationNS).Seconds())
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// hasBase reports whether the base cell of c is among cells.
func hasBase(cells []result.Cell, c result.Cell) bool {
	for _, b := range cells {
		if b.Variant == "" && b.Kernel == c.Kernel && b.Arch == c.Arch {
			return true
		}
	}
	return false
}

// writeBuildFailures writes each failure with its compiler output, each
// skip's reason, and the totals.
func writeBuildFailures(w io.Writer, rep *report.Run) {
	for _, t := range rep.Results {
		switch {
		case t.Outcome.Failed():
			fmt.Fprintf(w, "%-7s %s [%s]: %s\n", t.Outcome, t.Test, t.Cell, t.Reason)
			if len(t.Excerpt) > 0 {
				fmt.Fprintln(w, report.Indent(t.Excerpt, "    | "))
			}
		case t.Outcome == result.Skip:
			fmt.Fprintf(w, "SKIP    %s [%s]: %s\n", t.Test, t.Cell, t.Reason)
		}
	}
	fmt.Fprintf(w, "%d built, %d failed, %d skipped\n", rep.Totals.Passed, rep.Totals.Failed, rep.Totals.Skipped)
}

// maxWarningAnnotations bounds the warning annotations of a run (GitHub
// shows only the first few of a step).
const maxWarningAnnotations = 20

// buildAnnotations are GitHub workflow commands for the matrix: one error
// per distinct compiler error at its file:line, naming the cells that
// had it; an error at the directory's file for a cell that could not be
// built for another reason; a warning per distinct compiler warning.
func buildAnnotations(rep *report.Run, root string) []string {
	type key struct{ file, line, msg string }
	var order []key
	cellsOf := map[key][]string{}
	add := func(k key, cell string) {
		if _, ok := cellsOf[k]; !ok {
			order = append(order, k)
		}
		cellsOf[k] = append(cellsOf[k], cell)
	}
	var warnings []key
	warnCells := map[key][]string{}
	for _, t := range rep.Results {
		switch {
		case t.Outcome == result.Fail && t.Line > 0:
			first, _, _ := strings.Cut(t.Reason, " (full log: ")
			_, _, msg, _ := modbuild.CompilerErrorLocation(first)
			add(key{relTo(root, t.File), fmt.Sprint(t.Line), msg}, t.Cell)
		case t.Outcome.Failed():
			add(key{relTo(root, t.File), "", t.Reason}, t.Cell)
		case t.Outcome == result.Pass && t.Dir != "":
			logs, _ := filepath.Glob(filepath.Join(t.Dir, "build", "*", "build.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				for _, wl := range compilerWarnings(string(b)) {
					i := strings.Index(wl, ": warning: ")
					file, line, _, _ := modbuild.CompilerErrorLocation(wl[:i] + ": error: x")
					k := key{relTo(root, file), fmt.Sprint(line), wl[i+2:]}
					if _, ok := warnCells[k]; !ok {
						warnings = append(warnings, k)
					}
					warnCells[k] = append(warnCells[k], t.Cell)
				}
			}
		}
	}
	var out []string
	for _, k := range order {
		out = append(out, workflowCommand("error", k.file, k.line, "build error on "+strings.Join(cellsOf[k], ", "), k.msg))
	}
	for i, k := range warnings {
		if i == maxWarningAnnotations {
			break
		}
		out = append(out, workflowCommand("warning", k.file, k.line, "compiler warning on "+strings.Join(warnCells[k], ", "), k.msg))
	}
	return out
}

// workflowCommand formats one annotation, escaped as the runner expects.
func workflowCommand(level, file, line, title, msg string) string {
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	data := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	var props []string
	if file != "" {
		props = append(props, "file="+prop.Replace(file))
		if line != "" {
			props = append(props, "line="+line)
		}
	}
	props = append(props, "title="+prop.Replace(title))
	return fmt.Sprintf("::%s %s::%s", level, strings.Join(props, ","), data.Replace(msg))
}

// relTo is p relative to root ("" when outside it).
func relTo(root, p string) string {
	if p == "" {
		return ""
	}
	ra, err1 := filepath.Abs(root)
	pa, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(ra, pa)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return ""
	}
	return filepath.ToSlash(rel)
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
