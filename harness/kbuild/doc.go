// Package kbuild runs the kernel's build system for kernels: it resolves
// kernel source trees (source.go: Debian's linux-source tarballs,
// kernel.org releases in kernelorg.go, the user's own tree in local.go),
// configures them (Configure) and builds them out of tree into the cache
// (BuildKernel). Out-of-tree modules are built against these kernels by
// package modbuild.
//
// What it promises:
//   - A source tree is never written to: trees it unpacks are read-only in
//     the cache, and every kernel is built with O= in a cache entry. A
//     --kernel-src tree must be clean; its cache identity follows every
//     file's size and modification time.
//   - A kernel.org tarball is checked against the sha256 pinned in
//     kernelorg.sha256 (or given): a truncated or wrong download is refused
//     and nothing of it stays in the cache.
//   - Configuration fails, listing each one with its fragment's file and
//     line, when a requested option did not survive olddefconfig
//     (kconfig.ValidationError). What differs between kernel versions
//     (options dropped or renamed, make variables) comes from the quirk
//     table.
//   - A cache hit runs no make at all. The key covers the source's
//     identity, the arch, the merged configuration, the compiler's version
//     and the quirks' make variables.
//   - With a Remote (an OCI registry: package registry), a kernel the
//     cache lacks is pulled into the entry's temporary directory and
//     published by the same lock and rename as a build, needing neither
//     make nor an unpacked source tree (Resolve runs only for a build); a
//     registry that fails is one line through Notify, and the kernel is
//     built locally, then pushed (remote.go).
//   - Every command is logged verbatim before it runs, its output goes to
//     the entry's build.log, and a failed build's log is kept in the
//     cache's logs/ directory, its last lines in the error.
//   - A make that fails (KernelBuildError) is reported with its first
//     compiler, assembler or linker error at file:line in the tree, the
//     compiler, the quirks of the quirk table that were applied and what
//     to do (a quirk row, an older compiler, a newer release): a kernel
//     older than the host's compiler is never built with guessed flags.
package kbuild
