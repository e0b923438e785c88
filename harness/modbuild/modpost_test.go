package modbuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The wrapper's decisions, with a stand-in for the kernel's modpost that
// writes NAME.mod.c as told: the srcversion written into NAME.mod.o in
// place when it is all that changed, and NAME.mod.o left for make to
// compile in every other case.
func TestModpostWrapper(t *testing.T) {
	const old, new = "8C310BA09838B4BDC9DB6BE", "3C31527C605B6F960B5E362"
	modC := func(src, deps string) string {
		return "#include <linux/module.h>\nMODULE_INFO(depends, \"" + deps + "\");\nMODULE_INFO(srcversion, \"" + src + "\");\n"
	}
	object := func(srcs ...string) []byte {
		var b bytes.Buffer
		b.WriteString("\x7fELF\x00\x01")
		for _, s := range srcs {
			b.WriteString("\x00srcversion=" + s + "\x00vermagic=6.1\x00")
		}
		return b.Bytes()
	}
	cases := []struct {
		name      string
		before    string // NAME.mod.c as the previous build left it
		obj       []byte // NAME.mod.o
		objOlder  bool   // NAME.mod.o older than NAME.mod.c (stale)
		after     string // NAME.mod.c as modpost writes it now
		fail      bool   // modpost fails
		want      []byte // NAME.mod.o after the wrapper
		wantFresh bool   // ... newer than NAME.mod.c
	}{
		{"srcversion only", modC(old, ""), object(old), false, modC(new, ""), false, object(new), true},
		{"unchanged", modC(old, ""), object(old), false, modC(old, ""), false, object(old), false},
		{"a dependency too", modC(old, ""), object(old), false, modC(new, "other"), false, object(old), false},
		{"stale object", modC(old, ""), object(old), true, modC(new, ""), false, object(old), false},
		{"srcversion twice in the object", modC(old, ""), object(old, old), false, modC(new, ""), false, object(old, old), false},
		{"srcversion not in the object", modC(old, ""), object("ABCDEF0123456789ABCDEF0"), false, modC(new, ""), false, object("ABCDEF0123456789ABCDEF0"), false},
		{"no srcversion", "#include <linux/module.h>\n", object(), false, "#include <linux/module.h>\n// x\n", false, object(), false},
		{"modpost fails", modC(old, ""), object(old), false, modC(new, ""), true, object(old), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objtree, ext := t.TempDir(), t.TempDir()
			wrapper := modpostArgs(t.TempDir())
			if len(wrapper) != 1 {
				t.Fatalf("modpostArgs = %v", wrapper)
			}
			// The stand-in writes the new NAME.mod.c and checks that
			// its input and arguments came through.
			fake := "#!/bin/sh\n[ \"$1 $2\" = \"-T -\" ] || exit 9\nread -r line\n[ \"$line\" = mod.o ] || exit 8\ncat " + filepath.Join(objtree, "next") + " > " + filepath.Join(ext, "mod.mod.c") + "\n"
			if c.fail {
				fake += "exit 1\n"
			}
			os.MkdirAll(filepath.Join(objtree, "scripts", "mod"), 0o755)
			os.WriteFile(filepath.Join(objtree, "scripts", "mod", "modpost"), []byte(fake), 0o755)
			os.WriteFile(filepath.Join(objtree, "next"), []byte(c.after), 0o644)
			mc, mo := filepath.Join(ext, "mod.mod.c"), filepath.Join(ext, "mod.mod.o")
			os.WriteFile(mc, []byte(c.before), 0o644)
			os.WriteFile(mo, c.obj, 0o644)
			past := time.Now().Add(-time.Hour)
			if c.objOlder {
				os.Chtimes(mo, past, past)
			} else {
				os.Chtimes(mc, past, past)
				os.Chtimes(mo, past.Add(time.Second), past.Add(time.Second))
			}
			cmd := exec.Command(strings.TrimPrefix(wrapper[0], "MODPOST="), "-T", "-")
			cmd.Dir, cmd.Stdin = objtree, strings.NewReader("mod.o\n")
			cmd.Env = append(os.Environ(), "KBUILD_EXTMOD="+ext)
			out, err := cmd.CombinedOutput()
			if c.fail != (err != nil) {
				t.Fatalf("wrapper: %v\n%s", err, out)
			}
			got, _ := os.ReadFile(mo)
			if !bytes.Equal(got, c.want) {
				t.Errorf("NAME.mod.o = %q, want %q", got, c.want)
			}
			co, _ := os.Stat(mc)
			oo, _ := os.Stat(mo)
			if fresh := !co.ModTime().After(oo.ModTime()) && oo.ModTime().After(past.Add(time.Minute)); fresh != c.wantFresh {
				t.Errorf("NAME.mod.o up to date with the new NAME.mod.c: %v, want %v", fresh, c.wantFresh)
			}
			if left, _ := filepath.Glob(filepath.Join(ext, "*lkmtest*")); len(left) > 0 {
				t.Errorf("the wrapper left %v", left)
			}
		})
	}
}

// Without a module directory to look in, the wrapper is modpost itself.
func TestModpostWrapperNoExtmod(t *testing.T) {
	objtree := t.TempDir()
	os.MkdirAll(filepath.Join(objtree, "scripts", "mod"), 0o755)
	os.WriteFile(filepath.Join(objtree, "scripts", "mod", "modpost"), []byte("#!/bin/sh\necho \"modpost $*\"\nexit 3\n"), 0o755)
	wrapper := modpostArgs(t.TempDir())
	cmd := exec.Command(strings.TrimPrefix(wrapper[0], "MODPOST="), "-a", "b c")
	cmd.Dir = objtree
	cmd.Env = append(os.Environ(), "KBUILD_EXTMOD=")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || string(out) != "modpost -a b c\n" {
		t.Errorf("wrapper = %q, %v; want modpost's output and status 3", out, err)
	}
}

func TestModpostWrappable(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"# 6.1\nMODPOST = scripts/mod/modpost\n", true},
		{"MODPOST = scripts/mod/modpost\t\nmodpost-args = x\n", true},
		{"# 5.4\nMODPOST = scripts/mod/modpost\t\t\t\t\t\t\\\n\t$(if $(CONFIG_MODVERSIONS),-m)\n", false},
		{"", false},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "scripts"), 0o755)
		os.WriteFile(filepath.Join(dir, "scripts", "Makefile.modpost"), []byte(c.text), 0o644)
		if got := ModpostWrappable(dir); got != c.want {
			t.Errorf("ModpostWrappable(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if ModpostWrappable(t.TempDir()) {
		t.Errorf("a tree without scripts/Makefile.modpost is wrappable")
	}
}
