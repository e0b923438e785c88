// Package initramfs assembles the test VM's initramfs: a base image of
// u-root's core commands (built once per architecture with mkuimage and
// cached), followed by a small overlay archive with the guest agent as /init.
// The kernel unpacks concatenated newc archives in order, so the overlay's
// entries replace the base's.
//
// Test modules are not packed here: the host sends them to the agent over
// its channel once they are built, so the VM boots while modules compile.
package initramfs
