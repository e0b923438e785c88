package main

import (
	"fmt"
	"os"
)

// childEnv selects child mode: the value is the operation to perform.
const childEnv = "LKMTEST_AGENT_CHILD"

// initramfsMarker exists only in lkmtest's initramfs.
const initramfsMarker = "/etc/lkmtest-initramfs"

func main() {
	if op := os.Getenv(childEnv); op != "" {
		os.Exit(child(op, os.Args[1:]))
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "lkmtest-agent: refusing to run: not PID 1 (this is the guest init of lkmtest VMs; never run it on a host)")
		os.Exit(2)
	}
	if _, err := os.Stat(initramfsMarker); err != nil {
		fmt.Fprintln(os.Stderr, "lkmtest-agent: refusing to run: /etc/lkmtest-initramfs missing (not an lkmtest initramfs)")
		halt()
	}
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		// The accelerator probe: reaching init is the proof; say so and stop.
		fmt.Println("lkmtest-agent: probe ok")
		halt()
	}
	runAgent()
	halt()
}
