package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// Cell is one (kernel, arch) combination of a run.
type Cell struct {
	// Cell names it: the kernel as asked ("6.1", "6.6.62") and the arch;
	// its Release is filled in once the target is prepared.
	result.Cell
	// Err is why the cell's target could not be prepared (its tests are
	// then ERROR).
	Err error
}

// NewCell is the cell of kernel (as asked) on a.
func NewCell(kernel string, a arch.Arch) Cell {
	return Cell{Cell: result.Cell{Kernel: kernel, Arch: string(a)}}
}

// Record is the cell as results.json lists it.
func (c *Cell) Record() result.Cell {
	rc := c.Cell
	if c.Err != nil {
		rc.Error = c.Err.Error()
	}
	return rc
}

// Matrix is the outcome of RunMatrix.
type Matrix struct {
	// Cells are the combinations, in the order asked.
	Cells []Cell
	// Tests are the test names, in the order asked.
	Tests []string
	// variant is the run's own kernel variant (--flavour), of every cell.
	variant string
	// Results holds one result per (test, cell), test-major:
	// Results[i*len(Cells)+j] is test i on cell j.
	Results []verdict.Result
}

// Result returns the result of test i on cell j (Test is "" when it
// never ran).
func (m *Matrix) Result(i, j int) *verdict.Result { return &m.Results[i*len(m.Cells)+j] }

// RunMatrix prepares every cell's target, one after another (a kernel
// build already uses every CPU), then runs every test on every prepared
// target with up to o.VMs VMs at once. A cell whose target cannot be
// prepared gets ERROR results and its error in Cells[j].Err; the returned
// error is for the run as a whole (an interrupt).
func RunMatrix(ctx context.Context, base *Options, cells []Cell, specs []*spec.Spec) (*Matrix, error) {
	m := &Matrix{Cells: append([]Cell(nil), cells...), variant: base.Variant}
	for _, s := range specs {
		m.Tests = append(m.Tests, s.Name)
	}
	m.Results = make([]verdict.Result, len(specs)*len(cells))
	targets, err := m.prepare(ctx, base, specs)
	if err != nil {
		return m, err
	}
	return m, m.run(ctx, base, specs, targets)
}

// variants are the kernel variants the specs need: "" (no boot.config)
// first, then each boot.config (see specVariant).
func variants(specs []*spec.Spec) []string {
	seen := map[string]bool{}
	for _, s := range specs {
		seen[specVariant(s)] = true
	}
	var keys []string
	for v := range seen {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	return keys
}

// prepare prepares, cell after cell, the target of every variant a spec
// needs (a spec with boot.config runs on a kernel of its own: a variant of
// the cell's target, prepared only when a spec needs one). The specs of a
// target that cannot be prepared get ERROR results; a cell none of whose
// targets could be prepared gets its first error.
func (m *Matrix) prepare(ctx context.Context, base *Options, specs []*spec.Spec) ([]map[string]*Target, error) {
	keys := variants(specs)
	targets := make([]map[string]*Target, len(m.Cells))
	for j := range m.Cells {
		c := &m.Cells[j]
		targets[j] = map[string]*Target{}
		var firstErr error
		for _, v := range keys {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			t, err := prepareVariant(ctx, base, c, v)
			var skip *skipError
			if errors.As(err, &skip) {
				failSpecs(m, specs, j, v, err)
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				firstErr = cmp.Or(firstErr, err)
				if len(m.Cells) > 1 || len(keys) > 1 {
					fmt.Fprintf(base.log(), "%s: %v\n", c.Label(), err)
				}
				failSpecs(m, specs, j, v, err)
				continue
			}
			if c.Release == "" || v == "" {
				c.Release = t.Kernel.Meta.KernelVersion
			}
			targets[j][v] = t
		}
		if len(targets[j]) == 0 {
			c.Err = firstErr
		}
	}
	return targets, nil
}

// prepareVariant prepares cell c's target with the boot.config fragment v
// ("" for none).
func prepareVariant(ctx context.Context, base *Options, c *Cell, v string) (*Target, error) {
	o := *base
	o.Kernel, o.Arch = c.Kernel, arch.Arch(c.Arch)
	if v != "" {
		frag, err := ReadFragment(v)
		if err != nil {
			return nil, err
		}
		o.Extra = append(append([]kbuild.Fragment(nil), o.Extra...), frag)
		o.Variant = joinVariant(o.Variant, VariantName(v))
	}
	if why := kernelconfigs.Unsupported(kernelconfigs.FlavoursOf(o.Variant), knownVersion(c.Kernel)); why != "" {
		return nil, &skipError{why}
	}
	return Prepare(ctx, &o)
}

// joinVariant names a variant of a variant: "kasan" and "debug" give
// "kasan+debug".
func joinVariant(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "+" + b
}

// knownVersion is kernel as asked when it names a version ("6.1",
// "6.6.62"), "" when it does not ("local").
func knownVersion(kernel string) string {
	if kernel == "" || strings.Trim(kernel, "0123456789.") != "" {
		return ""
	}
	return kernel
}

// skipError: the cell's variant cannot exist (a flavour its kernel lacks);
// its tests are SKIP with the reason.
type skipError struct{ why string }

func (e *skipError) Error() string { return e.why }

// run runs every test on its cell's prepared target with up to base.VMs
// VMs at once; the error is an interrupt.
func (m *Matrix) run(ctx context.Context, base *Options, specs []*spec.Spec, targets []map[string]*Target) error {
	vms := base.VMs
	if vms <= 0 {
		vms = runtime.NumCPU()
	}
	type job struct{ i, j int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < vms; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				t, s := targets[jb.j][specVariant(specs[jb.i])], specs[jb.i]
				fmt.Fprintf(base.log(), "run %s on %s\n", s.Name, t.Name())
				*m.Result(jb.i, jb.j) = RunTest(ctx, t, s)
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)
	// Tests of one cell are queued together: they share cached module builds.
	for j := range m.Cells {
		for i := range specs {
			if targets[j][specVariant(specs[i])] == nil {
				continue
			}
			select {
			case jobs <- job{i, j}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// specVariant is the absolute path of a spec's boot.config, or the
// reference itself for lkmtest's own fragments ("lkmtest:debug"); "" for
// none.
func specVariant(s *spec.Spec) string {
	if s.Boot.Config == "" || kernelconfigs.IsRef(s.Boot.Config) {
		return s.Boot.Config
	}
	p, err := filepath.Abs(filepath.Join(s.Dir, s.Boot.Config))
	if err != nil {
		return filepath.Join(s.Dir, s.Boot.Config)
	}
	return p
}

// failSpecs gives the specs of variant v on cell j an ERROR result.
func failSpecs(m *Matrix, specs []*spec.Spec, j int, v string, err error) {
	c := &m.Cells[j]
	for i, s := range specs {
		if specVariant(s) == v {
			vc := c.Cell
			vc.Variant = m.variant
			if v != "" {
				vc.Variant = joinVariant(vc.Variant, VariantName(v))
			}
			r := verdict.Result{Test: s.Name, File: s.File, Kernel: c.Kernel, Arch: c.Arch, Variant: vc.Variant,
				Cell: vc.Label(), Outcome: result.Error, Stage: result.StageOf(err),
				Reason: "target not prepared: " + firstLine(result.Describe(err))}
			var skip *skipError
			if errors.As(err, &skip) {
				r.Outcome, r.Stage, r.Reason = result.Skip, "", skip.why
			}
			*m.Result(i, j) = r
		}
	}
}

// Ran returns the results of the tests that ran (all of them unless the run
// was interrupted).
func (m *Matrix) Ran() []verdict.Result {
	var out []verdict.Result
	for _, r := range m.Results {
		if r.Test != "" {
			out = append(out, r)
		}
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
