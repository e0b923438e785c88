// Package registry shares built kernels through an OCI registry: a kernel
// cache entry (kernels/KEY) becomes an OCI artifact tagged KEY, and an
// artifact becomes a cache entry again, so a machine that never built the
// kernel boots it and builds modules against it without running a kernel
// make. It implements kbuild.Remote (lkmtest run --kernel-registry) and the
// explicit push and pull of lkmtest kernel push|pull.
//
// The artifact is an OCI image manifest of artifactType
// application/vnd.lkmtest.kernel.v1 whose config blob is the entry's
// metadata.json, byte for byte, and whose annotations repeat its key, arch
// and kernel version. Its layers (tar, zstd-compressed) hold what booting
// and module builds need, and none of the object tree (artifact.go):
//   - image: the boot image (build/arch/*/boot/...);
//   - build: of the O= tree, .config, Module.symvers, include/ (generated
//     headers, include/config), arch/SRCARCH/include/ (generated),
//     scripts/ (module.lds and the built host tools fixdep, modpost, ...;
//     no objects or .cmd files) and tools/objtool/objtool when built;
//   - source: of the source tree, the top and arch Makefiles, include/,
//     scripts/, and arch/SRCARCH's include and scripts directories and
//     Kbuild.platforms/Platform files;
//   - debug: vmlinux, only when it has debug info (lkmtest symbolizes
//     kernel frames with it).
//
// A pulled entry has the source layer in source/ and build/source linking
// to it, and build/Makefile including it: make -C build M=DIR works as on
// the machine that built the kernel.
//
// What it promises:
//   - Every blob is checked against its digest and size while it is read
//     (and by the library too); a mismatch, a layer that is not a clean
//     tar (an absolute or escaping path, a link out of the entry, a device,
//     a file twice, more than 8 GiB in all), or a missing essential file
//     refuses the artifact.
//   - The kernel is identified by the artifact's metadata, not its tag: a
//     manifest whose metadata names another key, arch or kernel version
//     than the one asked for is refused, as is one whose annotations
//     disagree with its metadata, or whose .config has another count of
//     =y options than the metadata says.
//   - A pull fills the temporary directory of a cache entry, which
//     package cache publishes by a rename once it is complete (the same
//     lock and rename as a local build): an interrupted or refused pull
//     leaves nothing that a later lookup takes for a kernel.
//   - A registry that is unreachable or refuses is reported in one line
//     naming it and the fix. Once it was unreachable, later lookups do
//     not wait for it again; once it refused a push, no more are tried.
//   - Credentials come from the Docker config (authn.DefaultKeychain:
//     $DOCKER_CONFIG/config.json, credential helpers) and, for ghcr.io,
//     from GITHUB_TOKEN (user GITHUB_ACTOR) when set.
package registry
