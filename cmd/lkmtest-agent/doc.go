// Command lkmtest-agent is lkmtest's guest agent. It runs as /init (PID 1)
// of the test VM's initramfs: it mounts the pseudo filesystems, opens the
// virtio-serial port "lkmtest", waits for the kernel's RNG to be seeded,
// says hello, and carries out the host's requests (package guest): put a
// file, load or unload a module, run a program (in the foreground or in the
// background under a handle), signal or wait for one, write or read a
// file, sleep, start a shell on the console, shut down (the VM resets and
// QEMU, run with -no-reboot, exits). Each answer carries
// the kernel-log records written during the request, read from /dev/kmsg
// up to a marker record the agent logs at its end, so a line printed
// without a newline belongs to the request that printed it.
//
// A module is loaded or unloaded in a child process, /lkmtest/bin/insmod or
// /lkmtest/bin/rmmod: links to the static C helper lkmtest-child (this
// binary re-executed in child mode when an initramfs has no helper), so an
// oops in a module's init or exit kills the child, not PID 1; the agent
// ends a child whose task died in the kernel.
//
// It refuses to run unless it is PID 1 of an lkmtest initramfs (the
// /etc/lkmtest-initramfs marker), and its child mode refuses unless its
// parent is that PID 1: it must never load modules on the host. It is a
// small static binary that links only packages guest and klog of lkmtest
// (TestLayering checks it).
package main
