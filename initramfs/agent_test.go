package initramfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
)

// writeFiles writes files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go on the PATH")
	}
	// The fixture and the tree only: no network, no workspace, no flags
	// of the caller's.
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOTOOLCHAIN", "local")
}

// The agent's key follows the files of the packages it really imports:
// an edit of one of them, an embedded file or a new import changes it; a
// package it does not import, a test or a file of another GOOS does not.
func TestAgentKeyFollowsImports(t *testing.T) {
	needGo(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":                         "module example.com/agentfix\n\ngo 1.22\n",
		"go.sum":                         "",
		"cmd/lkmtest-agent/main.go":      "package main\n\nimport \"example.com/agentfix/a\"\n\nfunc main() { a.F() }\n",
		"cmd/lkmtest-agent/main_test.go": "package main\n",
		"a/a.go":                         "package a\n\nimport _ \"embed\"\n\n//go:embed data.txt\nvar data string\n\nfunc F() { println(data) }\n",
		"a/a_windows.go":                 "package a\n",
		"a/data.txt":                     "one\n",
		"b/b.go":                         "package b\n\nfunc G() {}\n",
	})
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keyOf := func() string {
		t.Helper()
		k, err := agentKey(t.Context(), c, dir, "arm64", "go version go1.26.8 linux/amd64")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k := keyOf()
	if again := keyOf(); again != k {
		t.Fatalf("the key of an unchanged tree changed: %s, then %s", k, again)
	}
	for _, step := range []struct {
		what    string
		files   map[string]string
		changes bool
	}{
		{"a package the agent does not import", map[string]string{"b/b.go": "package b\n\nfunc G() { println() }\n"}, false},
		{"a test file", map[string]string{"cmd/lkmtest-agent/main_test.go": "package main\n\n// x\n"}, false},
		{"a file of another GOOS", map[string]string{"a/a_windows.go": "package a\n\n// x\n"}, false},
		{"a dependency's file", map[string]string{"a/a.go": "package a\n\nimport _ \"embed\"\n\n//go:embed data.txt\nvar data string\n\nfunc F() { println(data, 1) }\n"}, true},
		{"a dependency's embedded file", map[string]string{"a/data.txt": "two\n"}, true},
		{"a new import", map[string]string{"cmd/lkmtest-agent/main.go": "package main\n\nimport (\n\t\"example.com/agentfix/a\"\n\t\"example.com/agentfix/b\"\n)\n\nfunc main() { a.F(); b.G() }\n"}, true},
		{"the newly imported package", map[string]string{"b/b.go": "package b\n\nfunc G() { println(2) }\n"}, true},
		{"go.mod", map[string]string{"go.mod": "module example.com/agentfix\n\ngo 1.22.0\n"}, true},
	} {
		writeFiles(t, dir, step.files)
		next := keyOf()
		if changed := next != k; changed != step.changes {
			t.Errorf("after an edit of %s the key changed = %v, want %v", step.what, changed, step.changes)
		}
		k = next
	}
	if other, err := agentKey(t.Context(), c, dir, "arm64", "go version go1.27.0 linux/amd64"); err != nil || other == k {
		t.Errorf("another Go version gives the same key (%v)", err)
	}
}

// On lkmtest's own tree the agent's sources include at least the packages
// it was once known to import, and nothing of the standard library.
func TestAgentSourcesOfTree(t *testing.T) {
	needGo(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := SourceRoot(wd)
	if root == "" {
		t.Skip("not in lkmtest's source tree")
	}
	pkgs, err := agentSources(t.Context(), root, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range pkgs {
		if len(p.GoFiles) == 0 {
			t.Errorf("%s: no Go files listed", p.ImportPath)
		}
		paths = append(paths, p.ImportPath)
	}
	for _, want := range []string{ModulePath + "/cmd/lkmtest-agent", ModulePath + "/harness/guest", ModulePath + "/harness/klog", "golang.org/x/sys/unix"} {
		if !slices.Contains(paths, want) {
			t.Errorf("agent sources %v lack %s", paths, want)
		}
	}
	for _, p := range paths {
		if p == "fmt" || p == "os" || p == "runtime" {
			t.Errorf("agent sources include the standard library's %s", p)
		}
	}
}

// go list runs again only when a file of the agent's own packages (or
// go.mod, go.sum) changes, not for an edit elsewhere in the tree.
func TestAgentSourcesMemoRunsGoListOnlyForItsPackages(t *testing.T) {
	needGo(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":                    "module example.com/agentfix\n\ngo 1.22\n",
		"go.sum":                    "",
		"cmd/lkmtest-agent/main.go": "package main\n\nimport \"example.com/agentfix/a\"\n\nfunc main() { a.F() }\n",
		"a/a.go":                    "package a\n\nfunc F() {}\n",
		"b/b.go":                    "package b\n\nfunc G() {}\n",
	})
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	old := listAgentSources
	defer func() { listAgentSources = old }()
	listAgentSources = func(ctx context.Context, root, goarch string) ([]listedPackage, error) {
		runs++
		return old(ctx, root, goarch)
	}
	memo := func() {
		t.Helper()
		if _, err := agentSourcesMemo(t.Context(), c, dir, "arm64", "go1.26"); err != nil {
			t.Fatal(err)
		}
	}
	memo()
	first := runs
	memo()
	if runs != first {
		t.Errorf("go list ran again for an unchanged tree")
	}
	writeFiles(t, dir, map[string]string{"b/b.go": "package b\n\nfunc G() { println() }\n"})
	memo()
	if runs != first {
		t.Errorf("go list ran again after an edit of a package the agent does not import")
	}
	writeFiles(t, dir, map[string]string{"a/a.go": "package a\n\nfunc F() { println(1) }\n"})
	memo()
	if runs == first {
		t.Errorf("go list did not run after an edit of a package the agent imports")
	}
}
