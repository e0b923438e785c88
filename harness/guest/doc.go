// Package guest defines the protocol between lkmtest on the host and its
// agent, which runs as /init inside the VM.
//
// The two talk over a virtio-serial port named "lkmtest" (the host end is a
// unix socket of QEMU), one JSON object per line, so that test results never
// mix with the kernel's console output. The agent speaks first with a Hello;
// then the host sends Requests and the agent answers each with a Response
// carrying the same ID and the kernel-log records written while the request
// ran.
package guest
