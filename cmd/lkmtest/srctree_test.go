package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/internal/testenv"
)

// fingerprint hashes every path, mode, size and modification time under
// dir (and the directories' own): any file written, created, removed or
// chmod'ed changes it. It reads no contents, so a kernel tree takes well
// under a second.
func fingerprint(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d\n", p, info.Mode(), info.Size(), info.ModTime().UnixNano())
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("%s has only %d entries: not a kernel tree", dir, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// No lkmtest command writes inside a cached kernel source tree (it is
// meant to be read-only, and root ignores the a-w bits): the tree's
// fingerprint is the same after a run of every command that uses it,
// including those given relative paths.
func TestNoCommandWritesSourceTree(t *testing.T) {
	testenv.NeedsKernelBuild(t)
	testenv.NeedsVM(t)
	src, stderr, code := cli(t, "kernel", "src")
	if code != 0 {
		t.Fatalf("kernel src: exit %d: %s", code, stderr)
	}
	tree := strings.TrimSpace(src)
	before := fingerprint(t, tree)

	work := t.TempDir()
	mod := filepath.Join(work, "mod")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"Kbuild": "obj-m += srctree_probe.o\n",
		"srctree_probe.c": "// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\nstatic int __init p_init(void) { pr_info(\"srctree_probe\\n\"); return 0; }\n" +
			"static void __exit p_exit(void) { }\nmodule_init(p_init);\nmodule_exit(p_exit);\nMODULE_LICENSE(\"GPL\");\n",
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(work, "out")
	for _, args := range [][]string{
		{"kernel", "config", "--out", "relcfg"},
		{"kernel", "build"},
		{"kernel", "fragments"},
		{"list"},
		{"doctor"},
		{"matrix", "--arch", "x86_64,arm64"},
		{"run", "--suite", mustAbs(t, "../../modules"), "--out", out, "hello"},
		{"verdict", out},
		{"run", "--out", filepath.Join(work, "out2"), mod},
		{"init", mod},
		{"run", "--out", filepath.Join(work, "out3"), mod},
	} {
		cmd := exec.Command(lkmtestBin, args...)
		cmd.Dir = work // relative paths resolve here, not in the tree
		cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "LKMTEST_SRC="+mustAbs(t, "../.."))
		if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
			cmd.Args = append([]string{lkmtestBin, "--cache-dir", c}, args...)
		}
		b, err := cmd.CombinedOutput()
		if err != nil && args[0] != "doctor" {
			t.Fatalf("lkmtest %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		if after := fingerprint(t, tree); after != before {
			t.Fatalf("lkmtest %s wrote into the cached source tree %s", strings.Join(args, " "), tree)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "relcfg", ".config")); err != nil {
		t.Errorf("kernel config --out relcfg: no .config in the working directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mod, "test.yaml")); err != nil {
		t.Errorf("init wrote no test.yaml: %v", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
