// Package dkms reads a DKMS package's dkms.conf the way DKMS does, for the
// kernel lkmtest builds against: it says which command builds the package
// (MAKE[n], chosen by MAKE_MATCH[n]), which modules the build must produce
// (BUILT_MODULE_NAME[n] in BUILT_MODULE_LOCATION[n]), which patches apply
// (PATCH[n], PATCH_MATCH[n]), the PRE_BUILD and POST_BUILD scripts, and
// whether BUILD_EXCLUSIVE_KERNEL, _KERNEL_MIN, _KERNEL_MAX, _ARCH or
// _CONFIG (and OBSOLETE_BY) rule the kernel out. Running the build is
// package modbuild's.
//
// A dkms.conf is a bash fragment that DKMS sources with $kernelver,
// $arch, $kernel_source_dir, $dkms_tree, $source_tree and $install_tree
// set. lkmtest evaluates it in-process (mvdan.cc/sh's bash interpreter)
// with the same variables pointed at its own kernel and directories, so
// quoting, arrays, ${var:-default}, [ ] and [[ ]] tests, if/else and
// pipes mean what bash makes of them. What it promises:
//   - The file is checked before it runs: a command that is neither one of
//     the shell builtins a configuration needs (echo, printf, test, [,
//     true, false, :, source of a file, unset, set, return) nor one of a
//     few read-only tools (nproc, uname, sort, grep, cut, head, tail, tr,
//     wc, cat, sed without -i, basename, dirname, expr, getconf) is an
//     error naming its line, as is a command whose name is computed, and
//     nothing runs. A syntax error names its line and column.
//   - Evaluating it writes no file (only /dev/null may be written to),
//     and is bounded in time. nproc answers the jobs lkmtest builds with;
//     uname -r the kernel's release, uname -m the DKMS arch (x86_64,
//     aarch64).
//   - Directives mean what DKMS makes of them: a leading "make" of the
//     build command becomes "make -jN KERNELRELEASE=<kernelver>" (so
//     'make' in quotes is left alone, as DKMS documents); with no MAKE,
//     the command is DKMS's default (make -C $kernel_source_dir
//     M=$dkms_tree/<name>/<version>/build); a package of one module
//     without BUILT_MODULE_NAME builds PACKAGE_NAME; DOS line endings are
//     dropped. Installation directives (DEST_MODULE_*, STRIP,
//     REMAKE_INITRD, MODULES_CONF*, POST_INSTALL, ...) are read and
//     ignored; CLEAN is read and not run (DKMS 3 no longer runs it: every
//     build starts from a fresh copy of the package).
//   - A missing PACKAGE_NAME or PACKAGE_VERSION, a module name ending in
//     .ko or .o, a bad AUTOINSTALL value or a BUILD_EXCLUSIVE regular
//     expression that does not compile is an error naming the directive.
package dkms
