// Package harness runs lkmtest's pipeline. Each stage is a function that can
// run alone, and Run chains them:
//
//	resolve  kbuild.ResolveDebian     kernel source tree, unpacked once
//	config   Fragments + kbuild       merged fragments, validated .config
//	build    kbuild.BuildKernel       kernel in the content-addressed cache
//	pack     Prepare                  agent + u-root base image → initramfs
//	boot     qemu.Start               VM with the agent channel
//	run      RunTest                  modules sent to the agent, steps run
//	judge    verdict.JudgeStep        every step against its spec
//
// Infrastructure failures are Go errors; a test that fails is a
// verdict.Result with a nil error.
package harness
