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
// build already uses every CPU), and runs the tests of each target as soon
// as it is ready, while later ones still build, with up to o.VMs VMs at
// once and the longest tests first. When a cell's tests have all run while
// others are still to come, its summary goes to the log. A cell whose
// target cannot be prepared gets ERROR results and its error in
// Cells[j].Err; the returned error is for the run as a whole (an
// interrupt).
func RunMatrix(ctx context.Context, base *Options, cells []Cell, specs []*spec.Spec) (*Matrix, error) {
	m := &Matrix{Cells: append([]Cell(nil), cells...), variant: base.Variant}
	for _, s := range specs {
		m.Tests = append(m.Tests, s.Name)
	}
	m.Results = make([]verdict.Result, len(specs)*len(cells))
	hist := loadDurations(base.Cache)
	defer hist.save()
	q := newQueue()
	st := newStream(m, base)
	targets := make([]map[string]*Target, len(m.Cells))
	for j := range targets {
		targets[j] = map[string]*Target{}
	}
	vms := base.VMs
	if vms <= 0 {
		vms = runtime.NumCPU() + 1
	}
	var wg sync.WaitGroup
	var tmu sync.Mutex // targets, filled while workers run
	for w := 0; w < vms; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The VM the last test left as it found it, for the next
			// test of the same target and boot settings.
			var kept *keptVM
			defer func() { kept.close() }()
			// For a kept VM: a test that fits it and should leave it
			// as found (2), then one that fits it (1).
			rank := func(w weighted) int {
				s := specs[w.i]
				tmu.Lock()
				defer tmu.Unlock()
				switch {
				case kept == nil || targets[w.j][specVariant(s)] != kept.t || bootKey(s) != kept.boot:
					return 0
				case w.dirty:
					return 1
				}
				return 2
			}
			for {
				jb, ok := q.take(rank)
				if !ok {
					return
				}
				tmu.Lock()
				t := targets[jb.j][specVariant(specs[jb.i])]
				tmu.Unlock()
				s := specs[jb.i]
				fmt.Fprintf(base.log(), "run %s on %s\n", s.Name, t.Name())
				// Is a test that could run in this VM still queued?
				// (A target's jobs are all queued when it is ready.)
				follow := func() bool {
					return q.any(func(w weighted) bool {
						tmu.Lock()
						defer tmu.Unlock()
						return targets[w.j][specVariant(specs[w.i])] == t && bootKey(specs[w.i]) == bootKey(s)
					})
				}
				var r verdict.Result
				var judged bool
				r, kept, judged = runTest(ctx, t, s, kept, follow)
				*m.Result(jb.i, jb.j) = r
				if r.Outcome != result.Skip && r.Duration > 0 {
					hist.set(t.Name(), s.Name, r.Duration)
					if t.reuse() && judged {
						hist.setDirty(t.Name(), s.Name, kept == nil)
					}
				}
				st.done(jb.j)
			}
		}()
	}
	ready := func(j int, v string, t *Target) {
		tmu.Lock()
		targets[j][v] = t
		tmu.Unlock()
		var jobs []weighted
		for i, s := range specs {
			if specVariant(s) == v {
				jobs = append(jobs, weighted{job{i, j}, hist.estimate(t.Name(), s), hist.dirty(t.Name(), s.Name)})
			}
		}
		st.queued(j, len(jobs))
		q.add(jobs...)
	}
	err := m.prepare(ctx, base, specs, ready, st.prepared)
	q.close()
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return m, err
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
// the cell's target, prepared only when a spec needs one), calling ready
// with each target as soon as it is prepared and cellDone after each cell.
// The specs of a target that cannot be prepared get ERROR results; a cell
// none of whose targets could be prepared gets its first error.
func (m *Matrix) prepare(ctx context.Context, base *Options, specs []*spec.Spec,
	ready func(j int, v string, t *Target), cellDone func(j int)) error {
	keys := variants(specs)
	for j := range m.Cells {
		c := &m.Cells[j]
		var firstErr error
		prepared := 0
		for _, v := range keys {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if whys := variantRuledOut(ctx, base, specs, c, v); whys != nil {
				skipSpecs(m, specs, j, v, whys)
				continue
			}
			t, err := prepareVariant(ctx, base, c, v)
			var skip *skipError
			if errors.As(err, &skip) {
				failSpecs(m, specs, j, v, err)
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
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
			prepared++
			ready(j, v, t)
		}
		if prepared == 0 {
			c.Err = firstErr
		}
		cellDone(j)
	}
	return nil
}

// prepareVariant prepares cell c's target with the boot.config fragment v
// ("" for none).
func prepareVariant(ctx context.Context, base *Options, c *Cell, v string) (*Target, error) {
	o, err := variantOptions(base, c, v)
	if err != nil {
		return nil, err
	}
	return prepareTarget(ctx, o)
}

// variantOptions are the options of cell c's target with the boot.config
// fragment v ("" for none): a skipError when the variant cannot exist.
// KernelKeys computes the cache keys of the same options.
func variantOptions(base *Options, c *Cell, v string) (*Options, error) {
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
	return &o, nil
}

// prepareTarget is Prepare; tests replace it with fakes.
var prepareTarget = Prepare

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
			r := verdict.Result{Test: s.Name, File: s.File, Kernel: cmp.Or(c.Release, c.Kernel), Arch: c.Arch, Variant: vc.Variant,
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
