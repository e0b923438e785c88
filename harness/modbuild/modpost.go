package modbuild

import (
	"os"
	"path/filepath"
	"strings"
)

// An edit of a module that has MODULE_VERSION changes its srcversion (an
// MD4 of its sources that modpost writes into NAME.mod.c), so kbuild
// compiles NAME.mod.c again: as long as the module's own source file,
// since it includes <linux/module.h> (0.18 s of a hello module's 0.45 s
// rebuild on arm64 here). When nothing else in NAME.mod.c changed, the
// object that compile gives differs from the previous NAME.mod.o only in
// the srcversion's bytes (the same length, in .modinfo; checked byte for
// byte by TestModpostWrapperSameBytes). lkmtest therefore runs modpost
// through a wrapper (MODPOST= on make's command line) that, after the
// kernel's modpost, writes the new srcversion into the previous NAME.mod.o
// in place; make then finds NAME.mod.o up to date and only links. Any
// other change of NAME.mod.c (a symbol imported, a dependency), a missing
// or stale NAME.mod.o, or a srcversion found other than exactly once, and
// make compiles as usual.
//
// Kernels whose Makefile.modpost names modpost alone in MODPOST (6.x)
// take the wrapper; 5.4's MODPOST carries modpost's options and does not
// (ModpostWrappable).

// modpostScript is the wrapper, run by make in the kernel's build
// directory with modpost's arguments and the module list on its input.
const modpostScript = `#!/bin/sh
# lkmtest's stand-in for scripts/mod/modpost (MODPOST=): see
# harness/modbuild/modpost.go in lkmtest. It runs the kernel's modpost;
# where modpost then changed a NAME.mod.c in its srcversion line only, it
# writes the new srcversion into the NAME.mod.o compiled from the previous
# NAME.mod.c (the bytes a compile would give), and make does not compile it.
d=$KBUILD_EXTMOD
if [ -z "$d" ] || [ ! -d "$d" ]; then exec scripts/mod/modpost "$@"; fi
find "$d" -name '*.mod.c' -type f | while IFS= read -r c; do
	o=${c%.c}.o
	if [ -f "$o" ] && [ ! "$c" -nt "$o" ]; then cp -p "$c" "$c.lkmtest-prev"; else rm -f "$c.lkmtest-prev"; fi
done
scripts/mod/modpost "$@"
status=$?
v='^MODULE_INFO(srcversion, "\([0-9A-F]*\)");$'
find "$d" -name '*.mod.c.lkmtest-prev' -type f | while IFS= read -r p; do
	c=${p%.lkmtest-prev}
	o=${c%.c}.o
	if [ "$status" -eq 0 ] && [ -f "$c" ] && ! cmp -s "$p" "$c"; then
		old=$(sed -n "s/$v/\1/p" "$p")
		new=$(sed -n "s/$v/\1/p" "$c")
		if [ -n "$old" ] && [ "${#old}" -eq "${#new}" ] &&
			[ "$(grep -c '^MODULE_INFO(srcversion, ' "$c")" -eq 1 ] &&
			grep -v '^MODULE_INFO(srcversion, ' "$p" > "$p.a" &&
			grep -v '^MODULE_INFO(srcversion, ' "$c" > "$p.b" && cmp -s "$p.a" "$p.b" &&
			at=$(grep -obUa "srcversion=$old" "$o" | cut -d: -f1) &&
			[ -n "$at" ] && [ "$(echo "$at" | wc -l)" -eq 1 ] &&
			cp "$o" "$o.lkmtest-new" &&
			printf 'srcversion=%s' "$new" | dd of="$o.lkmtest-new" bs=1 seek="$at" conv=notrunc 2>/dev/null; then
			mv -f "$o.lkmtest-new" "$o"
		fi
		rm -f "$o.lkmtest-new" "$p.a" "$p.b"
	fi
	rm -f "$p"
done
exit $status
`

// ModpostWrappable reports whether the kernel tree at src lets a wrapper
// stand in for modpost: its scripts/Makefile.modpost sets MODPOST to the
// program alone ("MODPOST = scripts/mod/modpost", 6.x), its options apart.
func ModpostWrappable(src string) bool {
	b, err := os.ReadFile(filepath.Join(src, "scripts", "Makefile.modpost"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimRight(l, " \t") == "MODPOST = scripts/mod/modpost" {
			return true
		}
	}
	return false
}

// modpostArgs returns the make argument that runs modpost through the
// wrapper, written into dir (a kernel's probe directory), or nil when the
// wrapper cannot be written or dir cannot be named literally on a make
// command line.
func modpostArgs(dir string) []string {
	if dir == "" || strings.ContainsAny(dir, "'\"$`\\ \t\n;&|<>()*?[]#~%,=:") {
		return nil
	}
	p := filepath.Join(dir, "modpost")
	if !writeScript(p, modpostScript) {
		return nil
	}
	return []string{"MODPOST=" + p}
}

// writeScript makes sure path holds the executable script text: false
// when it cannot be written.
func writeScript(path, text string) bool {
	if b, err := os.ReadFile(path); err == nil && string(b) == text {
		return true
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, []byte(text), 0o755) != nil || os.Chmod(tmp, 0o755) != nil || os.Rename(tmp, path) != nil {
		_ = os.Remove(tmp)
		return false
	}
	return true
}
