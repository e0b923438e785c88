package harness_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The module's packages form layers, and imports point one way:
// cmd → pipeline → stages → leaves. A stage never imports another stage:
// the pipeline (package harness) chains them. `make lint-layers` runs
// this test; it boots nothing.

// modulePath is the module's import path.
const modulePath = "github.com/lkmtest/lkmtest"

// layer is a package's place in the import direction.
type layer string

// The layers, from the top.
const (
	layerCmd      layer = "cmd"
	layerPipeline layer = "pipeline"
	layerStage    layer = "stage"
	layerLeaf     layer = "leaf"
)

// layers places every package of the module, by its path in the module:
// a path, or DIR/... for DIR and every package below it. Any package with
// an internal/ element in its path is a leaf. A package listed here that
// does not exist (yet) is ignored; one that exists and is not here fails
// the test.
var layers = []struct {
	pkg   string
	layer layer
}{
	{"cmd/...", layerCmd},

	{"harness", layerPipeline},

	{"harness/kbuild", layerStage},
	{"harness/modbuild", layerStage},
	{"initramfs", layerStage},
	{"harness/boot", layerStage},
	{"harness/verdict", layerStage},
	{"harness/report", layerStage},
	{"harness/registry", layerStage}, // kernels shared through an OCI registry (kbuild.Remote)

	{"harness/arch", layerLeaf},
	{"harness/kver", layerLeaf},
	{"harness/cache", layerLeaf},
	{"harness/kconfig", layerLeaf},
	{"harness/klog", layerLeaf},
	{"harness/ktap", layerLeaf},
	{"harness/model", layerLeaf},
	{"harness/quirk", layerLeaf},
	{"harness/spec", layerLeaf},
	{"harness/book", layerLeaf},
	{"harness/progress", layerLeaf},
	{"harness/guest", layerLeaf},
	{"harness/result", layerLeaf},
	{"harness/hostdeps", layerLeaf},
	{"harness/symbol", layerLeaf},
	{"harness/registry/registrytest", layerLeaf}, // an in-process OCI registry for tests
	{"harness/dkms", layerLeaf},
	{"kernel-configs", layerLeaf},
	{"qemu", layerLeaf}, // a VM library: it knows nothing of lkmtest's stages
}

// mayImport says which layers a layer may import from the module.
var mayImport = map[layer][]layer{
	layerCmd:      {layerPipeline, layerStage, layerLeaf},
	layerPipeline: {layerStage, layerLeaf},
	layerStage:    {layerLeaf},
	layerLeaf:     {layerLeaf},
}

// onlyImports narrows what some packages may import from the module to
// a list. The guest agent is a small static binary that runs as PID 1 in
// the guest: it links no host side of lkmtest.
var onlyImports = map[string][]string{
	"cmd/lkmtest-agent": {"harness/guest", "harness/klog"},
}

// layerOf returns the layer of package p (a path in the module), and
// false when the table has no place for it.
func layerOf(p string) (layer, bool) {
	if slices.Contains(strings.Split(p, "/"), "internal") {
		return layerLeaf, true
	}
	for _, l := range layers {
		if dir, ok := strings.CutSuffix(l.pkg, "/..."); ok {
			if p == dir || strings.HasPrefix(p, dir+"/") {
				return l.layer, true
			}
		} else if p == l.pkg {
			return l.layer, true
		}
	}
	return "", false
}

// modulePackages runs go list over the module and returns the imports of
// each of its packages that are packages of the module, by their paths in
// the module ("." is the module's root package). Test files' imports are
// not counted: the layers are those of what the binaries link.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the layering lint runs go list: %v", err)
	}
	cmd := exec.Command(goCmd, "list", "-e", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, modulePath+"/...")
	cmd.Dir = ".." // the module's root, from harness/
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	rel := func(imp string) (string, bool) {
		if imp == modulePath {
			return ".", true
		}
		return strings.CutPrefix(imp, modulePath+"/")
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		p, ok := rel(fields[0])
		if !ok {
			continue
		}
		pkgs[p] = []string{}
		for _, imp := range fields[1:] {
			if q, ok := rel(imp); ok {
				pkgs[p] = append(pkgs[p], q)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list found no package of %s:\n%s", modulePath, stderr.Bytes())
	}
	return pkgs
}

// TestLayering checks the import direction cmd → pipeline → stages →
// leaves over every package of the module, and prints every violation at
// once.
func TestLayering(t *testing.T) {
	if problems := violations(modulePackages(t)); len(problems) > 0 {
		t.Errorf("%d layering violations (cmd -> pipeline -> stages -> leaves, no import between stages):\n\t%s", len(problems), strings.Join(problems, "\n\t"))
	}
}

// violations lists, sorted, every import of pkgs (a package's imports of
// module packages, by path in the module) against the table, and every
// package the table has no place for.
func violations(pkgs map[string][]string) []string {
	var problems []string
	for p, imports := range pkgs {
		l, ok := layerOf(p)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is in no layer: add it to the table (layers) in harness/layering_test.go", p))
			continue
		}
		for _, imp := range imports {
			il, ok := layerOf(imp)
			if !ok {
				continue // reported as a package of its own
			}
			switch only, narrowed := onlyImports[p]; {
			case narrowed && !slices.Contains(only, imp):
				problems = append(problems, fmt.Sprintf("%s imports %s: it may import only %s", p, imp, strings.Join(only, " and ")))
			case l == layerCmd && il == layerCmd:
				problems = append(problems, fmt.Sprintf("%s imports %s: a command never imports another command", p, imp))
			case !slices.Contains(mayImport[l], il):
				problems = append(problems, fmt.Sprintf("%s (%s) imports %s (%s): a %s imports only %s", p, l, imp, il, l, joinLayers(mayImport[l])))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// plural names the layers in messages.
var plural = map[layer]string{layerCmd: "commands", layerPipeline: "the pipeline", layerStage: "stages", layerLeaf: "leaves"}

func joinLayers(ls []layer) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = plural[l]
	}
	return strings.Join(out, " and ")
}

// The table's patterns and rules classify as the lint relies on.
func TestLayeringTable(t *testing.T) {
	for p, want := range map[string]layer{
		"cmd/lkmtest": layerCmd, "cmd/lkmtest-agent": layerCmd, "cmd/new/sub": layerCmd,
		"harness": layerPipeline, "harness/report": layerStage, "initramfs": layerStage,
		"qemu": layerLeaf, "kernel-configs": layerLeaf, "harness/internal/proc": layerLeaf, "internal/x": layerLeaf,
	} {
		if got, ok := layerOf(p); !ok || got != want {
			t.Errorf("layerOf(%s) = %q, %v; want %q", p, got, ok, want)
		}
	}
	for _, p := range []string{"harness/newstage", "cmdx", "harness/reports", "qemu/qemutest"} {
		if l, ok := layerOf(p); ok {
			t.Errorf("layerOf(%s) = %q: a package not in the table must be reported", p, l)
		}
	}
}

// The rules, on a made-up module: every kind of violation is found, and
// allowed edges are not reported.
func TestLayeringRules(t *testing.T) {
	got := violations(map[string][]string{
		"cmd/lkmtest":       {"harness", "harness/report", "qemu", "cmd/lkmtest-agent"},
		"cmd/lkmtest-agent": {"harness/guest", "harness/klog", "harness/spec"},
		"harness":           {"harness/kbuild", "harness/spec", "harness/internal/proc"},
		"harness/kbuild":    {"harness/cache", "harness/progress", "harness/verdict"},
		"harness/spec":      {"harness/klog", "harness"},
		"qemu":              {"harness/arch", "initramfs"},
		"harness/shiny":     {"harness/spec"},
	})
	want := []string{
		"cmd/lkmtest imports cmd/lkmtest-agent: a command never imports another command",
		"cmd/lkmtest-agent imports harness/spec: it may import only harness/guest and harness/klog",
		"harness/kbuild (stage) imports harness/verdict (stage): a stage imports only leaves",
		"harness/shiny is in no layer: add it to the table (layers) in harness/layering_test.go",
		"harness/spec (leaf) imports harness (pipeline): a leaf imports only leaves",
		"qemu (leaf) imports initramfs (stage): a leaf imports only leaves",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
