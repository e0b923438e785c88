// Package harness runs lkmtest's pipeline. Each stage is a function that can
// run alone, and Run chains them:
//
//	resolve  kbuild.Resolve           Debian tarball, kernel.org release
//	                                  (sha256-checked) or local tree
//	quirks   quirk.For                what differs by version and arch
//	config   Fragments + kbuild       merged fragments, validated .config
//	build    kbuild.BuildKernel       kernel in the content-addressed cache
//	modules  buildModules             each module directory built in a
//	                                  mirror of its tree (kbuild/tree.go),
//	                                  in dependency order, partial builds
//	                                  kept (modules.go)
//	pack     Prepare                  agent, module helper, busybox, chrt +
//	                                  u-root base image → initramfs
//	boot     qemu.Start               VM with the agent channel, restored
//	                                  from a snapshot when one is cached
//	run      RunTest                  modules sent to the agent, steps run
//	judge    verdict.Judge.Step      every step against its spec
//
// A module directory without a spec runs as a smoke test (spec.SpecLess,
// smokeSpec): its steps are written once its modules are built.
//
// RunMatrix runs every test on every (kernel, arch) cell.
//
// Infrastructure failures are Go errors; a test that fails is a
// verdict.Result with a nil error.
package harness
