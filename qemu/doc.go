// Package qemu starts and supervises one QEMU virtual machine for lkmtest.
//
// Per-architecture facts (binary, machine, console, kernel image) live in one
// table, arch.go. A VM is described by Options, built with functional options
// (Fn), and its command line is a pure function of them (Options.Cmdline), so
// it can be tested without starting anything.
//
//	vm, err := qemu.Start(ctx, arch.X86_64,
//		qemu.WithKernel("bzImage"), qemu.WithInitramfs("initrd.cpio"),
//		qemu.WithSocketDir(dir), qemu.WithConsole(consoleFile))
//
// The VM is started paused (-S), the QMP monitor is connected, events are
// drained in their own goroutine and then the CPUs are resumed, so no event
// is lost. A guest panic makes QEMU exit at once (pvpanic-pci with
// -action panic=exit-failure); Wait reports how the VM ended as an Exit value.
// Every VM has a virtio-rng-pci device, so the guest's RNG is seeded at boot.
//
// The accelerator is chosen by ChooseAccel: KVM only when a real probe boots
// a guest under KVM in bounded time, TCG otherwise, with the reason.
package qemu
