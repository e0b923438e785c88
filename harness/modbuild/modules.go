package modbuild

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// Kernel is the built kernel tree that modules are built against.
type Kernel struct {
	// BuildDir is its O= directory (make -C BuildDir M=...).
	BuildDir string
	// Key is its cache key; Version its release ("6.1.192").
	Key, Version string
	// MakeArgs are the make variables every build against it needs
	// (ARCH=, CROSS_COMPILE=, the quirk table's).
	MakeArgs []string
	// ProbeDir memoizes kbuild's compiler probes ("": no memo; see
	// probe.go).
	ProbeDir string
	// TryRun is how the kernel tree defines kbuild's try-run, which the
	// probe memo must follow (TryRunStyle, read once per kernel).
	TryRun TryRun
	// Modpost: the tree lets lkmtest's wrapper stand in for modpost, so
	// that an edit which changes only a module's srcversion does not
	// compile its .mod.c again (ModpostWrappable; needs ProbeDir).
	Modpost bool
	// PCH is the lkmtest binary that compiles module sources with
	// precompiled headers (lkmtest __cc, see pch.go; needs ProbeDir), ""
	// for plain compiles.
	PCH string
}

// Builder builds tests' modules and helper programs for one kernel.
type Builder struct {
	Cache  *cache.Dir
	Arch   arch.Arch
	Kernel Kernel
	// Log receives make's output (verbose runs).
	Log io.Writer
}

// Set is the outcome of building a test's modules and helpers.
type Set struct {
	// Modules maps a module name (the .ko file name without .ko) to its
	// .ko; Helpers a helper's name to its static binary.
	Modules, Helpers map[string]string
	// Err: nothing could be built; the test is ERROR before any step.
	Err error
	// Skip says why the modules are not built for this kernel at all (a
	// DKMS package whose BUILD_EXCLUSIVE_* rules it out): the test is
	// SKIP with this reason.
	Skip string
	// Failed are the first errors of module directories that built only
	// in part or not at all, for the steps that need a missing module.
	Failed []string
	// Errors are the first errors of modules known to have failed, by name.
	Errors map[string]string
	// Done is when the build finished.
	Done time.Time
}

// GuestModuleDir and GuestHelperDir are where a test's modules and
// helpers are put in the guest.
const (
	GuestModuleDir = "/lkm"
	GuestHelperDir = "/lkmtest/helpers"
)

// Files are the built files to copy into the guest.
func (m Set) Files() []guest.File {
	var out []guest.File
	for _, name := range sortedKeys(m.Modules) {
		out = append(out, guest.File{Src: m.Modules[name], Dst: GuestModuleDir + "/" + name + ".ko", Mode: 0o644})
	}
	for _, name := range sortedKeys(m.Helpers) {
		out = append(out, guest.File{Src: m.Helpers[name], Dst: GuestHelperDir + "/" + name, Mode: 0o755})
	}
	return out
}

// Missing explains why the module a step needs was not built.
func (m Set) Missing(name string) string {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	for k, e := range m.Errors {
		if norm(k) == norm(name) {
			return fmt.Sprintf("module %s was not built: %s", name, e)
		}
	}
	if len(m.Failed) > 0 {
		return fmt.Sprintf("module %s was not built: %s", name, strings.Join(m.Failed, "; "))
	}
	return fmt.Sprintf("no module %s.ko was built (built: %s)", name, strings.Join(sortedKeys(m.Modules), ", "))
}

// smokeSpec writes the steps of the smoke test of a module directory
// without a test.yaml, now that its modules are built: every module loaded
// in dependency order, then unloaded in reverse. The spec is saved in the
// test's directory as saveAs, so that lkmtest verdict can judge the run
// again.
func SmokeSpec(p *spec.Spec, mods Set, saveAs string) (*spec.Spec, error) {
	if len(mods.Failed) > 0 {
		return nil, fmt.Errorf("not every module of %s built: %s", p.Dir, strings.Join(mods.Failed, "; "))
	}
	names := sortedKeys(mods.Modules)
	deps := map[string][]string{}
	for _, n := range names {
		d, err := Depends(mods.Modules[n])
		if err != nil {
			return nil, err
		}
		deps[n] = d
	}
	s, text, err := spec.Smoke(p, LoadOrder(names, deps))
	if err != nil {
		return nil, fmt.Errorf("smoke test of %s: %w", p.Dir, err)
	}
	_ = os.WriteFile(saveAs, text, 0o600)
	return s, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
