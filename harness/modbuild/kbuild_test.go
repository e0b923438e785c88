package modbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t testing.TB, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMirrorTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeFile(t, src, "convenient.h", "#define X 1")
	writeFile(t, src, "klib.c", "int k;")
	writeFile(t, src, "ch5/mod/mod.c", "#include \"../../convenient.h\"")
	writeFile(t, src, "ch5/mod/Makefile", "obj-m += mod.o")
	writeFile(t, src, "ch5/mod/mod.o", "stale object of a host build")
	writeFile(t, src, ".git/config", "hidden")
	writeFile(t, src, "lkmtest-out/x/result.json", "{}")
	if err := os.Symlink("../../convenient.h", filepath.Join(src, "ch5/mod/link.h")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ch5", filepath.Join(src, "chapter5")); err != nil {
		t.Fatal(err)
	}
	// A build product in the mirror from an earlier build, and a link to
	// a source that is gone.
	writeFile(t, dst, "ch5/mod/mod.ko", "built")
	if err := os.Symlink(filepath.Join(src, "gone.c"), filepath.Join(dst, "gone.c")); err != nil {
		t.Fatal(err)
	}

	if err := mirrorTree(src, dst, ""); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dst, name)); return string(b) }
	if read("ch5/mod/mod.c") != "#include \"../../convenient.h\"" || read("ch5/mod/link.h") != "#define X 1" {
		t.Errorf("sources not reachable through the mirror: mod.c=%q link.h=%q", read("ch5/mod/mod.c"), read("ch5/mod/link.h"))
	}
	// The relative include resolves from the mirrored directory.
	if read("ch5/mod/../../convenient.h") != "#define X 1" {
		t.Error("../../convenient.h does not resolve inside the mirror")
	}
	if st, err := os.Lstat(filepath.Join(dst, "chapter5")); err != nil || !st.IsDir() {
		t.Errorf("a symlinked directory is not mirrored as a directory (kbuild would write through it): %v", err)
	}
	for _, gone := range []string{"ch5/mod/mod.o", ".git/config", "lkmtest-out", "gone.c"} {
		if _, err := os.Lstat(filepath.Join(dst, gone)); !os.IsNotExist(err) {
			t.Errorf("%s is in the mirror", gone)
		}
	}
	if read("ch5/mod/mod.ko") != "built" {
		t.Error("a build product in the mirror was removed")
	}
	// Writing through the mirror's directories never reaches the source.
	writeFile(t, dst, "ch5/mod/new.o", "x")
	if _, err := os.Stat(filepath.Join(src, "ch5/mod/new.o")); !os.IsNotExist(err) {
		t.Error("an object written in the mirror appeared in the source tree")
	}
	// An edit is seen at once (the mirror links), and a second sync of an
	// unchanged tree keeps every link as it was.
	st1, _ := os.Lstat(filepath.Join(dst, "klib.c"))
	time.Sleep(10 * time.Millisecond)
	if err := mirrorTree(src, dst, ""); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Lstat(filepath.Join(dst, "klib.c"))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("an unchanged link was made anew")
	}
}

func TestMirrorTreeLoop(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, "a/mod.c", "")
	if err := os.Symlink("..", filepath.Join(src, "a", "up")); err != nil {
		t.Fatal(err)
	}
	err := mirrorTree(src, t.TempDir(), "")
	if err == nil || !strings.Contains(err.Error(), "symlink loop") {
		t.Fatalf("mirrorTree of a tree with a loop: %v, want a symlink loop error", err)
	}
}

func TestFirstCompilerError(t *testing.T) {
	log := `make: Entering directory '/k'
  CC [M]  /src/ex/ok.o
  CC [M]  /src/ex/bad.c.o
/src/ex/bad.c: In function 'bad_init':
/src/ex/bad.c:7:9: warning: unused variable 'x' [-Wunused-variable]
/src/ex/bad.c:9:2: error: implicit declaration of function 'nope' [-Werror=implicit-function-declaration]
/src/ex/bad.c:12:1: error: second
make[2]: *** [scripts/Makefile.build:250: /src/ex/bad.o] Error 1`
	got := FirstCompilerError(log)
	want := "/src/ex/bad.c:9:2: error: implicit declaration of function 'nope' [-Werror=implicit-function-declaration]"
	if got != want {
		t.Fatalf("FirstCompilerError = %q, want %q", got, want)
	}
	f, l, msg, ok := CompilerErrorLocation(got)
	if !ok || f != "/src/ex/bad.c" || l != 9 || !strings.HasPrefix(msg, "error: implicit") {
		t.Errorf("CompilerErrorLocation = %q %d %q %v", f, l, msg, ok)
	}
	if got := FirstCompilerError("ERROR: modpost: \"exp_int\" [/m/user.ko] undefined!\n"); !strings.HasPrefix(got, "ERROR: modpost:") {
		t.Errorf("modpost error not found: %q", got)
	}
	if got := FirstCompilerError("/m/x.c:3:10: fatal error: ../../convenient.h: No such file or directory"); got == "" {
		t.Error("a fatal error is not found")
	}
	if got := FirstCompilerError("all good\n"); got != "" {
		t.Errorf("FirstCompilerError of a clean log = %q", got)
	}
}

func TestOutsideHint(t *testing.T) {
	tree := ModuleTree{Root: "/r/ch5/mod", Dir: "/r/ch5/mod"}
	out := "/r/ch5/mod/mod.c:3:10: fatal error: ../../convenient.h: No such file or directory"
	if h := outsideHint(out, tree); !strings.Contains(h, "root:") {
		t.Errorf("outsideHint = %q, want the root: hint", h)
	}
	if h := outsideHint("/r/ch5/mod/mod.c:3:10: fatal error: nope.h: No such file or directory", tree); h != "" {
		t.Errorf("outsideHint of a missing local header = %q", h)
	}
}

// BenchmarkMirrorUnchanged syncs the mirror of a 2,000-file tree in which
// nothing changed (the warm path of every module build).
func BenchmarkMirrorUnchanged(b *testing.B) {
	src, dst := b.TempDir(), b.TempDir()
	for i := 0; i < 2000; i++ {
		writeFile(b, src, fmt.Sprintf("d%02d/s%02d/f%04d.c", i%20, i%7, i), "int x;")
	}
	if err := mirrorTree(src, dst, ""); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := mirrorTree(src, dst, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sync")
}

// A source that was a file and is now a directory (a checkout of another
// branch) is mirrored as a directory: the walk never goes through the old
// link into the user's tree.
func TestMirrorFileBecomesDir(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeFile(t, src, "inc", "a file")
	if err := mirrorTree(src, dst, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "inc")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, "inc/a.h", "header")
	if err := mirrorTree(src, dst, ""); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(filepath.Join(src, "inc", "a.h")); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("the user's inc/a.h is no longer a regular file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "inc", "a.h")); string(b) != "header" {
		t.Errorf("mirror inc/a.h = %q", b)
	}
	if st, err := os.Lstat(filepath.Join(dst, "inc")); err != nil || !st.IsDir() {
		t.Errorf("mirror inc is not a directory: %v", err)
	}
}

// A cache directory inside the tree (it holds the mirror) is not mirrored,
// but the module directory is, even when the cache is inside it.
func TestMirrorSkipsCacheInTree(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, "mod/m.c", "int m;")
	mirror := filepath.Join(src, "mod", "cache", "modbuild", "k", "tree")
	if err := mirrorTree(src, mirror, filepath.Join(src, "mod")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(mirror, "mod", "m.c")); err != nil {
		t.Errorf("the module directory was left out: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(mirror, "mod", "cache")); !os.IsNotExist(err) {
		t.Errorf("the cache inside the tree was mirrored: %v", err)
	}
}

// Single-target builds after a failed "make modules": one run for all the
// modules that compiled, then again without those its errors name; one at a
// time only when a failing run names none of them.
func TestSingleTargets(t *testing.T) {
	mdir := t.TempDir()
	var runs [][]string
	bad := map[string]string{
		"net":  `ERROR: modpost: "register_netdev" [/src/ex/net.ko] undefined!`,
		"arch": "/src/ex/arch.c:5:10: fatal error: asm/msr.h: No such file or directory",
	}
	build := func(targets []string) (string, error) {
		var names []string
		var out []string
		for _, k := range targets {
			n := strings.TrimSuffix(filepath.Base(k), ".ko")
			names = append(names, n)
			if e, ok := bad[n]; ok {
				out = append(out, e)
			}
		}
		runs = append(runs, names)
		if len(out) > 0 {
			return strings.Join(out, "\n"), fmt.Errorf("make: exit status 2")
		}
		for _, k := range targets {
			writeFile(t, mdir, filepath.Base(k), "ko")
		}
		writeFile(t, mdir, "Module.symvers", strings.Join(names, ",")+"\n")
		return "", nil
	}
	var kos []string
	for _, n := range []string{"a", "arch", "b", "net"} {
		kos = append(kos, filepath.Join(mdir, n+".ko"))
	}
	errs := map[string]string{}
	built, symvers := singleTargets(build, mdir, kos, errs)
	if len(runs) != 2 || strings.Join(runs[1], ",") != "a,b" {
		t.Errorf("make runs = %v, want all four, then a,b", runs)
	}
	if len(built) != 2 || filepath.Base(built[0]) != "a.ko" || filepath.Base(built[1]) != "b.ko" || string(symvers) != "a,b\n" {
		t.Errorf("built %v, symvers %q", built, symvers)
	}
	if errs["net"] != bad["net"] || errs["arch"] != bad["arch"] {
		t.Errorf("errors = %v", errs)
	}
	// A failure that names no module: one run each.
	runs, errs = nil, map[string]string{}
	bad = map[string]string{"b": "make: *** something went wrong"}
	built, _ = singleTargets(build, mdir, kos[:3], errs)
	if len(runs) != 4 || len(built) != 2 {
		t.Errorf("runs %v, built %v: want one batch then three single runs, two built", runs, built)
	}
}

// The kernel's release and, without BTF for modules, empty pahole flags go
// on make's command line, so that no recipe starts a process for them; a
// kernel with BTF for modules keeps its flags.
func TestRecipeVars(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "include/config"), 0o755)
	os.WriteFile(filepath.Join(dir, "include/config/kernel.release"), []byte("6.1.192\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".config"), []byte("CONFIG_64BIT=y\n# CONFIG_DEBUG_INFO_BTF is not set\n"), 0o644)
	if got := recipeVars(dir); !slices.Equal(got, []string{"KERNELRELEASE=6.1.192", "PAHOLE_FLAGS="}) {
		t.Errorf("recipeVars = %q", got)
	}
	os.WriteFile(filepath.Join(dir, ".config"), []byte("CONFIG_64BIT=y\nCONFIG_DEBUG_INFO_BTF_MODULES=y\n"), 0o644)
	if got := recipeVars(dir); !slices.Equal(got, []string{"KERNELRELEASE=6.1.192"}) {
		t.Errorf("with BTF for modules: recipeVars = %q, want only the release", got)
	}
	if got := recipeVars(t.TempDir()); len(got) != 0 {
		t.Errorf("an empty build directory: %q, want nothing", got)
	}
}
