package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/modbuild"
)

// After an edit of a module with MODULE_VERSION, the modpost wrapper
// writes the new srcversion into the previous NAME.mod.o instead of a
// compile: the .ko is byte for byte the one a compile of NAME.mod.c gives,
// on a real kernel of each arch.
func TestModpostWrapperSameBytes(t *testing.T) {
	for _, a := range vmArchs {
		t.Run(string(a), func(t *testing.T) {
			k := archTarget(t, a).Modules.Kernel
			if !k.Modpost {
				t.Fatalf("the 6.1 kernel's tree does not take the modpost wrapper (%s)", k.BuildDir)
			}
			src, work := t.TempDir(), t.TempDir()
			tree := modbuild.ModuleTree{Root: src, Dir: src}
			edit := func(n int) {
				t.Helper()
				data, err := os.ReadFile("../modules/ch04-hello/helloworld_lkm.c")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(data, []byte("MODULE_VERSION(")) {
					t.Fatal("ch04-hello has no MODULE_VERSION: no srcversion to change")
				}
				text := strings.ReplaceAll(string(data), `Hello, world\n`, fmt.Sprintf(`Hello, world %d\n`, n))
				os.WriteFile(filepath.Join(src, "helloworld_lkm.c"), []byte(text), 0o644)
				kb, _ := os.ReadFile("../modules/ch04-hello/Kbuild")
				os.WriteFile(filepath.Join(src, "Kbuild"), kb, 0o644)
			}
			build := func(k modbuild.Kernel) (ko []byte, log string) {
				t.Helper()
				var out bytes.Buffer
				mb, err := modbuild.BuildModules(context.Background(), k, tree, work, nil, &out)
				if err != nil || len(mb.Kos) != 1 {
					t.Fatalf("build: %v\n%s", err, out.String())
				}
				ko, err = os.ReadFile(mb.Kos[0])
				if err != nil {
					t.Fatal(err)
				}
				return ko, out.String()
			}
			edit(1)
			first, _ := build(k)
			edit(2)
			patched, log := build(k)
			if strings.Contains(log, ".mod.o\n") || !strings.Contains(log, "LD [M]") {
				t.Errorf("after the edit the wrapper's build compiled the .mod.c again, or did not link:\n%s", log)
			}
			// The same sources, the .mod.o compiled: the same bytes.
			mods, _ := filepath.Glob(filepath.Join(work, "tree", "*.mod.o"))
			if len(mods) != 1 {
				t.Fatalf("mod.o files in the build: %v", mods)
			}
			os.Remove(mods[0])
			plain := k
			plain.Modpost = false
			compiled, log := build(plain)
			if !strings.Contains(log, ".mod.o\n") {
				t.Fatalf("the plain build did not compile the .mod.c:\n%s", log)
			}
			if !bytes.Equal(patched, compiled) {
				t.Errorf("the .ko with the srcversion written in (%d bytes) differs from the compiled one (%d bytes)", len(patched), len(compiled))
			}
			if bytes.Equal(patched, first) {
				t.Errorf("the test compares nothing: the first build's .ko is the same")
			}
		})
	}
}
