package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// child performs one module operation and prints the errno name on failure.
// Its exit code is 0 on success, 1 on a system-call error, 2 on misuse.
func child(op string, args []string) int {
	// Only the agent (PID 1 of an lkmtest initramfs) starts children: an
	// environment variable must not turn this binary into a host insmod.
	if os.Getppid() != 1 {
		fmt.Fprintln(os.Stderr, "lkmtest-agent: refusing: a child operation needs the agent (PID 1) as parent")
		return 2
	}
	if _, err := os.Stat(initramfsMarker); err != nil {
		fmt.Fprintf(os.Stderr, "lkmtest-agent: refusing: %s missing (not an lkmtest initramfs)\n", initramfsMarker)
		return 2
	}
	var err error
	switch {
	case op == "insmod" && len(args) == 2:
		err = insmod(args[0], args[1])
	case op == "rmmod" && len(args) == 1:
		err = unix.DeleteModule(args[0], unix.O_NONBLOCK)
	default:
		fmt.Fprintf(os.Stderr, "lkmtest-agent: bad child operation %q %q\n", op, args)
		return 2
	}
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		fmt.Println(unix.ErrnoName(errno))
	} else {
		fmt.Fprintf(os.Stderr, "lkmtest-agent: %s: %v\n", op, err)
		fmt.Println("EIO")
	}
	return 1
}

func insmod(path, params string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), params, 0)
	if errors.Is(err, unix.ENOSYS) {
		image, rerr := os.ReadFile(path)
		if rerr != nil {
			return rerr
		}
		err = unix.InitModule(image, params)
	}
	return err
}
