package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/modbuild"
)

// A module source compiled twice (an edit loop) gets a precompiled header
// of the kernel headers it starts with; the next compile uses it, and the
// .ko is byte for byte the one a plain compile gives, with the same
// headers in kbuild's .cmd file, on a real kernel of each arch. A source
// whose leading headers include one of the module's own gets none.
func TestPCHSameBytes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lkmtest")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/lkmtest").CombinedOutput(); err != nil {
		t.Fatalf("build lkmtest: %v\n%s", err, out)
	}
	for _, a := range vmArchs {
		t.Run(string(a), func(t *testing.T) {
			k := archTarget(t, a).Modules.Kernel
			k.ProbeDir, k.PCH = t.TempDir(), bin // PCHs of this test only
			roots := []string{k.BuildDir, filepath.Join(k.BuildDir, "source")}
			src, work := t.TempDir(), t.TempDir()
			tree := modbuild.ModuleTree{Root: src, Dir: src}
			edit := func(n int, mode string) {
				t.Helper()
				data, err := os.ReadFile("../modules/ch04-hello/helloworld_lkm.c")
				if err != nil {
					t.Fatal(err)
				}
				text := strings.ReplaceAll(string(data), `Hello, world\n`, fmt.Sprintf(`Hello, world %d\n`, n))
				kbuild := "obj-m := helloworld_lkm.o\n"
				if mode == "prfmt" {
					text = strings.Replace(text, "#include <linux/init.h>", "#define pr_fmt(fmt) \"%s:%s(): \" fmt, KBUILD_MODNAME, __func__\n#include <linux/init.h>", 1)
				}
				if mode == "local" {
					// <hello-local.h> is the module's own, found by -I.
					text = strings.Replace(text, "#include <linux/init.h>", "#include <hello-local.h>\n#include <linux/init.h>", 1)
					kbuild += "ccflags-y := -I$(src)/include\n"
					os.MkdirAll(filepath.Join(src, "include"), 0o755)
					os.WriteFile(filepath.Join(src, "include", "hello-local.h"), []byte("#ifndef HELLO_LOCAL_H\n#define HELLO_LOCAL_H\n#define HELLO_LOCAL 1\n#endif\n"), 0o644)
				}
				os.WriteFile(filepath.Join(src, "helloworld_lkm.c"), []byte(text), 0o644)
				os.WriteFile(filepath.Join(src, "Kbuild"), []byte(kbuild), 0o644)
			}
			build := func(k modbuild.Kernel) []byte {
				t.Helper()
				var out bytes.Buffer
				mb, err := modbuild.BuildModules(context.Background(), k, tree, work, nil, &out)
				if err != nil || len(mb.Kos) != 1 {
					t.Fatalf("build: %v\n%s", err, out.String())
				}
				ko, err := os.ReadFile(mb.Kos[0])
				if err != nil {
					t.Fatal(err)
				}
				return ko
			}
			pchs := func() []string {
				m, _ := filepath.Glob(filepath.Join(k.PCHDir(), "*", "ok"))
				return m
			}
			edit(1, "")
			build(k)
			edit(2, "")
			build(k)
			if !modbuild.PendingPCHs(k.PCHDir()) {
				t.Fatal("no PCH pending after two compiles of the source")
			}
			if err := modbuild.BuildPCHs(context.Background(), k.PCHDir(), roots, os.Stderr); err != nil {
				t.Fatal(err)
			}
			if len(pchs()) != 1 {
				t.Fatalf("PCHs built: %v", pchs())
			}
			uses := filepath.Join(filepath.Dir(pchs()[0]), "uses")
			edit(3, "")
			with := build(k)
			withDeps := cmdDeps(t, work)
			if b, _ := os.ReadFile(uses); len(b) != 1 {
				t.Fatalf("the compile after the PCH used it %d times, want 1", len(b))
			}
			plain := k
			plain.PCH = "" // CC changes: make compiles again, plainly
			without := build(plain)
			if !bytes.Equal(with, without) {
				t.Errorf("the .ko compiled with the PCH (%d bytes) differs from the plain one (%d bytes)", len(with), len(without))
			}
			if d := cmdDeps(t, work); strings.Join(d, "\n") != strings.Join(withDeps, "\n") || len(d) < 100 {
				t.Errorf("kbuild's dependencies differ: %d with the PCH, %d without", len(withDeps), len(d))
			}

			// A pr_fmt defined before the headers: in the PCH too.
			edit(6, "prfmt")
			build(k)
			edit(7, "prfmt")
			build(k)
			if err := modbuild.BuildPCHs(context.Background(), k.PCHDir(), roots, os.Stderr); err != nil {
				t.Fatal(err)
			}
			if len(pchs()) != 2 {
				t.Fatalf("PCHs with the pr_fmt one: %v", pchs())
			}
			edit(8, "prfmt")
			with = build(k)
			used := 0
			for _, ok := range pchs() {
				b, _ := os.ReadFile(filepath.Join(filepath.Dir(ok), "uses"))
				used += len(b)
			}
			if used != 2 {
				t.Fatalf("PCH uses after the pr_fmt compile: %d, want 2 (one each)", used)
			}
			without = build(plain)
			if !bytes.Equal(with, without) {
				t.Errorf("pr_fmt: the .ko compiled with the PCH (%d bytes) differs from the plain one (%d bytes)", len(with), len(without))
			}

			// The module's own header among the leading ones: no PCH.
			edit(4, "local")
			build(k)
			edit(5, "local")
			build(k)
			if err := modbuild.BuildPCHs(context.Background(), k.PCHDir(), roots, os.Stderr); err == nil || !strings.Contains(err.Error(), "not the kernel's") {
				t.Errorf("a PCH holding the module's own header: error %v, want it refused", err)
			}
			if len(pchs()) != 2 {
				t.Errorf("PCHs after the refused one: %v", pchs())
			}
		})
	}
}

// cmdDeps are the dependencies kbuild recorded for the module's object
// (its .o.cmd), sorted, without repeats.
func cmdDeps(t *testing.T, work string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(work, "tree", ".helloworld_lkm.o.cmd"))
	if len(m) != 1 {
		t.Fatalf(".o.cmd files: %v", m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	_, deps, _ := strings.Cut(string(b), "deps_")
	deps, _, _ = strings.Cut(deps, "\n\n")
	seen := map[string]bool{}
	var out []string
	for _, l := range strings.Split(deps, "\n")[1:] {
		f := strings.TrimSuffix(strings.TrimSpace(l), `\`)
		f = strings.TrimSpace(f)
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}
