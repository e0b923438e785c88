// Package initramfs assembles the test VM's initramfs: a base image of
// u-root's core commands (Base: built once per architecture with mkuimage
// and cached), followed by a small overlay archive (Overlay, Assemble)
// with the guest agent as /init (Agent finds or builds it), the marker
// file /etc/lkmtest-initramfs the agent requires, the static C module
// helper behind /lkmtest/bin/insmod and rmmod, Debian's static busybox for
// the guest's everyday tools (Busybox) and the test's own files. The
// kernel unpacks concatenated newc archives in order, so the overlay's
// entries replace the base's.
//
// Test modules are not packed here: the host sends them to the agent over
// its channel once they are built, so the VM boots while modules compile.
//
// What it promises: what it builds or downloads (base images, agents,
// busybox) is cached under a key of everything it depends on and published
// whole, so a warm run builds nothing; the overlay's records are
// reproducible (same inputs, same bytes); busybox is fetched with a private
// apt state, leaving the host's package lists and architectures untouched.
package initramfs
