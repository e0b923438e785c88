package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/guest"
)

// consoleTTY is the device of the kernel's console (console=ttyS0 gives
// /dev/ttyS0): the serial line the host's terminal is connected to.
func consoleTTY() (string, error) {
	b, err := os.ReadFile("/sys/class/tty/console/active")
	if err != nil {
		return "", err
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return "", fmt.Errorf("no active console in /sys/class/tty/console/active")
	}
	// The last one is /dev/console's.
	return "/dev/" + fields[len(fields)-1], nil
}

// startShell starts an interactive shell with the console as its
// controlling terminal; when it exits, the VM powers off.
func startShell(req guest.Request) error {
	dev, err := consoleTTY()
	if err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	tty, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	ws := unix.Winsize{Row: req.Rows, Col: req.Cols}
	if ws.Row == 0 || ws.Col == 0 {
		ws.Row, ws.Col = 24, 80
	}
	_ = unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &ws)
	args := req.Args
	if len(args) == 0 {
		// u-root's gosh, not /bin/sh (busybox ash): ash edits lines in raw
		// mode, and a Ctrl-D that arrives before it switches (a piped
		// shell session) is lost as a NUL byte, so the session never ends.
		args = []string{"/bbin/gosh"}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Dir = "/lkm"
	if _, err := os.Stat(cmd.Dir); err != nil {
		cmd.Dir = "/"
	}
	cmd.Env = append(os.Environ(), "TERM=linux", "HOME=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		tty.Close()
		return fmt.Errorf("shell: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		tty.Close()
		halt()
	}()
	return nil
}
