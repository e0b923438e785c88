package modbuild

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// writeTree writes files (path: content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		f := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(f, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeKernel is a kernel build directory that only says its release: the
// packages below build with a Makefile of their own, not kbuild.
func fakeKernel(t *testing.T, release string) Kernel {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"include/config/kernel.release": release + "\n", ".config": "CONFIG_MODULES=y\n"})
	return Kernel{BuildDir: dir, Key: "k-" + release, Version: release, MakeArgs: []string{"ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", "W=1"}}
}

// A package built the DKMS way, with a Makefile standing in for kbuild:
// the patch and PRE_BUILD run in the copy, MAKE gets KERNELRELEASE and
// the kernel's directory, ARCH, CROSS_COMPILE and W=1 reach it through
// the environment, the modules are found at BUILT_MODULE_LOCATION, and
// the user's tree is untouched.
func TestBuildDKMSFake(t *testing.T) {
	pkg := t.TempDir()
	writeTree(t, pkg, map[string]string{
		"dkms.conf": `PACKAGE_NAME="fake"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]=alpha
BUILT_MODULE_LOCATION[0]=src
BUILT_MODULE_NAME[1]=beta
BUILT_MODULE_LOCATION[1]=src
PATCH[0]=fix.patch
PRE_BUILD="prebuild.sh"
MAKE[0]="make KSRC=${kernel_source_dir} SRCTREE=$source_tree/fake-1.0"
`,
		"prebuild.sh": "#!/bin/sh\necho prebuilt > src/pre.txt\n",
		"Makefile": "all:\n\t@echo \"release=$(KERNELRELEASE) ksrc=$(KSRC) arch=$$ARCH cross=$$CROSS_COMPILE extra=$$KBUILD_EXTRA_WARN\" > src/env.txt\n" +
			"\t@test -f $(SRCTREE)/Makefile\n\t@cat src/pre.txt src/fixed.txt\n\t@touch src/alpha.ko src/beta.ko\n",
		"src/alpha.c":       "int a;\n",
		"src/fixed.txt":     "before\n",
		"patches/fix.patch": "--- a/src/fixed.txt\n+++ b/src/fixed.txt\n@@ -1 +1 @@\n-before\n+after\n",
	})
	before := snapshot(t, pkg)
	k := fakeKernel(t, "6.1.192")
	work := t.TempDir()
	mb, err := BuildDKMS(context.Background(), k, arch.ARM64, pkg, work, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	build := filepath.Join(work, "dkms", "fake", "1.0", "build")
	if len(mb.Kos) != 2 || mb.Kos[0] != filepath.Join(build, "src/alpha.ko") || mb.Partial {
		t.Errorf("built %+v", mb)
	}
	env, _ := os.ReadFile(filepath.Join(build, "src/env.txt"))
	if want := "release=6.1.192 ksrc=" + k.BuildDir + " arch=arm64 cross=aarch64-linux-gnu- extra=1\n"; string(env) != want {
		t.Errorf("the build saw %q, want %q", env, want)
	}
	log, _ := os.ReadFile(filepath.Join(work, "build.log"))
	if !strings.Contains(string(log), "prebuilt\nafter\n") || !strings.Contains(string(log), "make -j") {
		t.Errorf("build.log:\n%s", log)
	}
	if after := snapshot(t, pkg); after != before {
		t.Errorf("the package's own tree changed:\n%s\n----\n%s", before, after)
	}

	// An edit is copied again (its time kept), a removed file goes, what
	// the build made stays; the patch applies again to the fresh copy.
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(pkg, "src/alpha.c"), []byte("int a2;\n"), 0o644)
	os.Chtimes(filepath.Join(pkg, "src/alpha.c"), later, later)
	os.WriteFile(filepath.Join(pkg, "src/gone.c"), []byte("x"), 0o644)
	if _, err := BuildDKMS(context.Background(), k, arch.ARM64, pkg, work, nil, nil); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(pkg, "src/gone.c"))
	if _, err := BuildDKMS(context.Background(), k, arch.ARM64, pkg, work, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(build, "src/alpha.c")); string(b) != "int a2;\n" {
		t.Errorf("the edit was not copied: %q", b)
	}
	if st, _ := os.Stat(filepath.Join(build, "src/alpha.c")); !st.ModTime().Equal(later) {
		t.Errorf("copy time %v, want the source's %v", st.ModTime(), later)
	}
	if _, err := os.Stat(filepath.Join(build, "src/gone.c")); err == nil {
		t.Error("a file removed from the package is still in the copy")
	}
	if _, err := os.Stat(filepath.Join(build, "src/env.txt")); err != nil {
		t.Error("a file the build made was removed from the copy")
	}
}

// snapshot lists a tree's files with their contents.
func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			c, _ := os.ReadFile(p)
			b.WriteString(p + "\n" + string(c))
		}
		return nil
	})
	return b.String()
}

// A module the build did not make, a compiler error (at the user's path),
// and a kernel BUILD_EXCLUSIVE_KERNEL rules out.
func TestBuildDKMSFailures(t *testing.T) {
	pkg := t.TempDir()
	writeTree(t, pkg, map[string]string{
		"dkms.conf": "PACKAGE_NAME=f\nPACKAGE_VERSION=2\nBUILT_MODULE_NAME[0]=one\nBUILT_MODULE_NAME[1]=two\nMAKE[0]=\"make\"\n",
		"Makefile":  "all:\n\t@touch one.ko\n",
	})
	mb, err := BuildDKMS(context.Background(), fakeKernel(t, "6.12.117"), arch.X86_64, pkg, t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !mb.Partial || len(mb.Kos) != 1 || !strings.Contains(mb.Errors["two"], "two.ko (BUILT_MODULE_NAME[1], BUILT_MODULE_LOCATION[1]) was not built by MAKE[0]") {
		t.Errorf("partial build: %+v", mb)
	}

	writeTree(t, pkg, map[string]string{"Makefile": "all:\n\t@echo \"$(CURDIR)/two.c:9:2: error: 'x' undeclared\" >&2; exit 2\n"})
	_, err = BuildDKMS(context.Background(), fakeKernel(t, "6.12.117"), arch.X86_64, pkg, t.TempDir(), nil, nil)
	var be *ModuleBuildError
	if !errors.As(err, &be) || be.FirstError != filepath.Join(pkg, "two.c")+":9:2: error: 'x' undeclared" {
		t.Errorf("compiler error: %v", err)
	}

	writeTree(t, pkg, map[string]string{"dkms.conf": "PACKAGE_NAME=f\nPACKAGE_VERSION=2\nBUILD_EXCLUSIVE_KERNEL=\"^6\\.1\\.\"\n"})
	_, err = BuildDKMS(context.Background(), fakeKernel(t, "6.12.117"), arch.X86_64, pkg, t.TempDir(), nil, nil)
	var ex *ExcludedError
	if !errors.As(err, &ex) || !strings.Contains(ex.Reason, `does not match kernel 6.12.117`) {
		t.Errorf("excluded: %v", err)
	}
}
