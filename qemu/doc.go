// Package qemu starts and supervises one QEMU virtual machine. It is a VM
// library: it knows the guest agent's channel and the pvpanic device, but
// nothing of lkmtest's stages.
//
// Per-architecture facts (binary, machine, console, CPU model, kernel
// image) come from the table of package harness/arch. A VM is described by
// Options, built with functional options (Fn), and its command line is a
// pure function of them (Options.Cmdline, CmdlineQuoted for copy and
// paste), so it can be tested without starting anything.
//
//	vm, err := qemu.Start(ctx, arch.X86_64,
//		qemu.WithKernel("bzImage"), qemu.WithInitramfs("initrd.cpio"),
//		qemu.WithSocketDir(dir), qemu.WithConsole(consoleFile))
//	...
//	exit := vm.Wait()
//
// What it promises:
//   - No event is lost: the VM is started paused (-S), the QMP monitor is
//     connected, events are drained in their own goroutine, and only then
//     are the CPUs resumed (after the state is restored, for WithIncoming).
//   - A VM always ends: a guest panic makes QEMU exit at once (pvpanic-pci
//     with -action panic=exit-failure, panic=-1 and -no-reboot otherwise),
//     WithTimeout and the context stop it, Stop asks QMP to quit and kills
//     QEMU a second later, and QEMU dies with the process that started it.
//   - Wait reports how it ended as an Exit value (a panic, a timeout, a
//     stop, QEMU's status and standard error); Done closes only once QEMU
//     has exited and its console is fully copied.
//   - Every VM has a virtio-rng-pci device, so the guest's RNG is seeded at
//     boot. SaveState and WithIncoming save a booted VM and restore it.
//   - A VM can change hands: Pause and Detach in the process that started
//     it, Adopt in another (handoff.go); the first stays QEMU's parent.
//
// The accelerator is chosen by ChooseAccel: KVM only when a real probe boots
// a guest under KVM in bounded time, TCG otherwise, with the reason.
package qemu
