// Package boot is the boot stage: it starts a test's VM for a prepared
// kernel and initramfs, from a saved snapshot when one fits (TCG only),
// else by booting, and hands back a Session: the VM with a client of its
// guest agent. It also chooses the accelerator by a real trial boot, saves
// snapshots, keeps QEMU's socket directories, and holds standby VMs: a
// process of its own keeps a restored, warmed-up VM for the next run,
// which claims it instead of restoring one (standby.go).
//
// It promises: every VM a Session started is stopped and reaped by Close;
// a test's run directory gets console.log, agent.log (the transcript),
// qemu.cmdline and qemu.exit; a snapshot that fails to restore is dropped
// and the VM boots instead; a socket directory left by a process that is
// gone (kill -9) is removed by the next lkmtest, and one still in use by a
// live process is never touched; a standby's guest is its snapshot's, and
// a claim that fails leaves the run restoring as usual.
package boot
