package modbuild

import (
	"reflect"
	"strings"
	"testing"
)

func TestIncludePrefix(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"hello", "// SPDX-License-Identifier: GPL-2.0\n/*\n * a comment\n */\n#include <linux/init.h>\n#include <linux/module.h>\n\nstatic int x;\n",
			"#include <linux/init.h>\n#include <linux/module.h>\n"},
		{"blank lines and comments between", "#include <linux/init.h>\n\n// note\n#include <linux/slab.h>\n/* one line */\nint x;\n",
			"#include <linux/init.h>\n#include <linux/slab.h>\n"},
		{"pr_fmt first", "#define pr_fmt(fmt) \"%s:%s(): \" fmt, KBUILD_MODNAME, __func__\n#include <linux/module.h>\nint x;\n",
			"#define pr_fmt(fmt) \"%s:%s(): \" fmt, KBUILD_MODNAME, __func__\n#include <linux/module.h>\n"},
		{"defines between", "#include <linux/init.h>\n#define DEBUG\n#include <linux/module.h>\n", "#include <linux/init.h>\n#define DEBUG\n#include <linux/module.h>\n"},
		{"defines alone", "#define DEBUG\nint x;\n", ""},
		{"a define's continuation ends it", "#include <linux/init.h>\n#define X(a) \\\n\t(a)\n#include <linux/module.h>\n", "#include <linux/init.h>\n"},
		{"a comment in a define ends it", "#include <linux/init.h>\n#define X 1 /* one */\n#include <linux/module.h>\n", "#include <linux/init.h>\n"},
		{"an undef ends it", "#include <linux/init.h>\n#undef X\n#include <linux/module.h>\n", "#include <linux/init.h>\n"},
		{"a local header ends it", "#include <linux/init.h>\n#include \"local.h\"\n#include <linux/module.h>\n", "#include <linux/init.h>\n"},
		{"an ifdef ends it", "#include <linux/init.h>\n#ifdef CONFIG_X\n#include <linux/module.h>\n#endif\n", "#include <linux/init.h>\n"},
		{"a comment after an include ends it", "#include <linux/init.h> /* init */\n#include <linux/module.h>\n", ""},
		{"code after a comment's end", "/* x */ int y;\n#include <linux/module.h>\n", ""},
		{"nothing", "int x;\n", ""},
	} {
		if got := includePrefix([]byte(c.src)); got != c.want {
			t.Errorf("%s: includePrefix = %q, want %q", c.name, got, c.want)
		}
	}
}

// A kbuild compile as the wrapper gets it (shortened).
var kbuildCompile = []string{"aarch64-linux-gnu-gcc", "-Wp,-MMD,/m/.hello.o.d", "-nostdinc", "-I/k/include",
	"-include", "/k/include/linux/compiler-version.h", "-include", "/k/include/linux/kconfig.h",
	"-include", "/k/include/linux/compiler_types.h", "-D__KERNEL__", "-O2", "-g", "-DMODULE",
	"-DKBUILD_MODNAME=\"hello\"", "-c", "-o", "/m/hello.o", "/m/hello.c"}

func TestParseCompile(t *testing.T) {
	c, ok := parseCompile(kbuildCompile)
	if !ok || c.Out != 17 || c.Dep != 1 || c.Src != 18 || !reflect.DeepEqual(c.Include, []int{5, 7, 9}) {
		t.Fatalf("parseCompile = %+v, %v", c, ok)
	}
	with := c.withPCH("/p/pre.h")
	want := []string{"aarch64-linux-gnu-gcc", "-Wp,-MMD,/m/.hello.o.d", "-nostdinc", "-I/k/include", "-include", "/p/pre.h",
		"-D__KERNEL__", "-O2", "-g", "-DMODULE", "-DKBUILD_MODNAME=\"hello\"", "-c", "-o", "/m/hello.o", "/m/hello.c"}
	if !reflect.DeepEqual(with, want) {
		t.Errorf("withPCH =\n%q\nwant\n%q", with, want)
	}
	flags := c.flagsOnly()
	if strings.Join(flags, " ") != "-nostdinc -I/k/include -D__KERNEL__ -O2 -g -DMODULE -DKBUILD_MODNAME=\"hello\"" {
		t.Errorf("flagsOnly = %q", flags)
	}
	c.Prefix = "#include <linux/module.h>\n"
	if h := c.pchHeader(); h != "#include \"/k/include/linux/compiler-version.h\"\n#include \"/k/include/linux/kconfig.h\"\n#include \"/k/include/linux/compiler_types.h\"\n#include <linux/module.h>\n" {
		t.Errorf("pchHeader = %q", h)
	}
	// The key: not the output, dependency file or source; every flag and the prefix.
	other := append([]string{}, kbuildCompile...)
	other[1], other[17], other[18] = "-Wp,-MMD,/n/.x.d", "/n/x.o", "/n/x.c"
	o, _ := parseCompile(other)
	o.Prefix = c.Prefix
	if o.key() != c.key() {
		t.Error("the key depends on the output, dependency file or source path")
	}
	o.Args = append(append([]string{}, other[:12]...), append([]string{"-DDEBUG"}, other[12:]...)...)
	o, _ = parseCompile(o.Args)
	o.Prefix = c.Prefix
	if o.key() == c.key() {
		t.Error("the key does not depend on a -D flag")
	}
	o, _ = parseCompile(kbuildCompile)
	o.Prefix = "#include <linux/slab.h>\n"
	if o.key() == c.key() {
		t.Error("the key does not depend on the prefix")
	}
	for _, bad := range [][]string{
		{"gcc", "--version"},
		{"gcc", "-E", "-include", "a.h", "-o", "x.i", "x.c"},
		{"gcc", "-c", "-o", "x.o", "x.c"}, // no -include: not kbuild's
		{"gcc", "-imacros", "m.h", "-include", "a.h", "-c", "-o", "x.o", "x.c"},
		{"gcc", "-include", "a.h", "-c", "-o", "x.o", "x.S"},
	} {
		if _, ok := parseCompile(bad); ok {
			t.Errorf("parseCompile(%q) accepted", bad)
		}
	}
}
