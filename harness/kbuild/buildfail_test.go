package kbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
)

func TestFirstBuildError(t *testing.T) {
	src, out := "/cache/src/k/linux-5.4.302", "/cache/kernels/x.tmp-1/build"
	for _, tc := range []struct{ name, log, want string }{
		{"gcc, absolute path in the tree", `  CC      kernel/fork.o
/cache/src/k/linux-5.4.302/kernel/fork.c:1234:5: error: 'foo' undeclared (first use in this function)
make[2]: *** [/cache/src/k/linux-5.4.302/scripts/Makefile.build:262: kernel/fork.o] Error 1`,
			"kernel/fork.c:1234:5: error: 'foo' undeclared (first use in this function)"},
		{"a warning first, then the error", `/cache/src/k/linux-5.4.302/mm/slub.c:10:2: warning: unused variable 'x'
./include/linux/slab.h:77:1: fatal error: asm/foo.h: No such file or directory`,
			"./include/linux/slab.h:77:1: fatal error: asm/foo.h: No such file or directory"},
		{"a host tool's link (GCC 10+ -fno-common)", `  HOSTLD  scripts/dtc/dtc
/usr/bin/ld: scripts/dtc/dtc-parser.tab.o:(.bss+0x10): multiple definition of ` + "`yylloc'" + `; scripts/dtc/dtc-lexer.lex.o:(.bss+0x0): first defined here
collect2: error: ld returned 1 exit status`,
			"/usr/bin/ld: scripts/dtc/dtc-parser.tab.o:(.bss+0x10): multiple definition of `yylloc'; scripts/dtc/dtc-lexer.lex.o:(.bss+0x0): first defined here"},
		{"the cross linker", "aarch64-linux-gnu-ld: /cache/kernels/x.tmp-1/build/vmlinux.o: undefined reference to `bar'",
			"aarch64-linux-gnu-ld: vmlinux.o: undefined reference to `bar'"},
		{"gas", "/cache/src/k/linux-5.4.302/arch/x86/entry/entry_64.S:1756: Error: no such instruction: `foo'",
			"arch/x86/entry/entry_64.S:1756: Error: no such instruction: `foo'"},
		{"an option the compiler lacks", "gcc: error: unrecognized command-line option '-mfoo'\nmake[1]: *** [Makefile:1:x] Error 1",
			"gcc: error: unrecognized command-line option '-mfoo'"},
		{"make alone", "make[1]: *** No rule to make target 'arch/x86/tools/relocs_32.c'.  Stop.",
			"make[1]: *** No rule to make target 'arch/x86/tools/relocs_32.c'.  Stop."},
		{"ld warnings are no errors", "ld: warning: arch/x86/boot/compressed/vmlinux has a LOAD segment with RWX permissions", ""},
	} {
		if got := FirstBuildError(tc.log, src, out); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// fakeTree is a kernel tree of version 5.4.302 whose Makefile configures
// (allnoconfig copies the requested options, olddefconfig keeps them) and
// then fails to build with a compiler error in kernel/fork.c, named by
// its absolute path as an O= build does.
func fakeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mk := `VERSION = 5
PATCHLEVEL = 4
SUBLEVEL = 302
EXTRAVERSION =
allnoconfig:
	mkdir -p $(O) && cp $(KCONFIG_ALLCONFIG) $(O)/.config
olddefconfig:
	@true
bzImage Image modules:
	@echo "  CC      kernel/fork.o"
	@echo "$(CURDIR)/kernel/fork.c:1234:5: error: 'foo' undeclared (first use in this function)" >&2
	@echo "make[2]: *** [$(CURDIR)/scripts/Makefile.build:262: kernel/fork.o] Error 1" >&2
	@exit 2
`
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A kernel build that fails says so loudly: the first compiler error at
// its file:line in the tree, the quirks applied from the quirk table, what
// to do, and where the whole log is; the cache keeps no entry.
func TestBuildKernelFailureNamesErrorAndQuirks(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: apt-get install make")
	}
	a, err := arch.Host()
	if err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath(a.CC()); err != nil {
		t.Skipf("no %s: the build needs the compiler's version", a.CC())
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{Dir: fakeTree(t), Version: "5.4.302", Identity: "fake:5.4.302"}
	_, err = BuildKernel(context.Background(), c, KernelRequest{
		Source: src, Arch: a, Jobs: 1,
		Fragments: []Fragment{{Name: "test.config", Text: "CONFIG_MODULES=y\n"}},
	})
	var be *KernelBuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want a *KernelBuildError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		"build kernel 5.4.302 " + string(a) + ": kernel/fork.c:1234:5: error: 'foo' undeclared",
		"quirks applied to 5.4.302 on " + string(a) + " from the quirk table (harness/quirk/quirk.go): no-pvpanic-pci, ",
		"tree: " + src.Dir + "; compiler: ",
		"fix: if this kernel is older than the compiler, it may need a quirk: add a row",
		"last lines of the build log (all of it: " + filepath.Join(c.Root, "logs"),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(be.Log); err != nil {
		t.Errorf("the failed build's log is not kept: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(c.Root, "kernels", "*", "metadata.json")); len(entries) > 0 {
		t.Errorf("a failed build left a cache entry: %v", entries)
	}
}
