// Package harness is lkmtest's pipeline: it chains the stages, each of
// which lives in a package of its own and can run alone.
//
//	resolve    kbuild.Resolve          Debian tarball, kernel.org release
//	                                   (sha256-checked) or local tree
//	configure  Configure, kbuild       merged fragments (quirk table applied),
//	                                   every requested option checked
//	build      Kernel, kbuild          the kernel, in the content-addressed
//	                                   cache
//	modules    modbuild.Builder        a test's modules, built in a mirror of
//	                                   their tree, and its static helpers
//	pack       initramfs               u-root base + agent, module helper,
//	                                   busybox and chrt (pack in target.go)
//	boot       boot.Machine            the accelerator probe, then a VM per
//	                                   test, restored from a snapshot when
//	                                   one is cached
//	run        RunTest, guest.Client   files copied in, steps sent, records
//	                                   back
//	judge      verdict                 every step against its spec; a guest
//	                                   that stopped answering judged from its
//	                                   console; a saved run replayed offline
//	report     report                  results.json, JUnit, KTAP, GitHub,
//	                                   the terminal table
//
// Prepare builds a Target (one kernel and arch: the kernel, the machine
// its VMs boot, the builder of its modules); RunTest runs one test on it;
// RunMatrix runs every test on every (kernel, arch) cell, and on a spec's
// own kernel variant (boot.config) where one asks for it. A module
// directory without a spec runs as a smoke test (spec.SpecLess,
// modbuild.SmokeSpec): its steps are written once its modules are built.
//
// What it promises: a failure of lkmtest's own (a kernel that does not
// build, a missing tool) is an error that names its stage
// (result.StageOf); a test that fails is a verdict.Result, never an error;
// every test directory holds result.json, spec.yaml, console.log,
// agent.log, qemu.cmdline and qemu.exit, from which 'lkmtest verdict'
// judges the run again. Configuration comes in Options, filled by the
// command line: nothing below reads the environment.
package harness
