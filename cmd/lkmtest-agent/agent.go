package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/guest"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "lkmtest-agent: "+format+"\n", args...)
}

// halt resets the VM; QEMU runs with -no-reboot, so it exits.
func halt() {
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	// If reset is refused, power off; if that fails too, wait to be killed.
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func setup() error {
	mounts := []struct{ src, dst, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fs, m.dst, err)
		}
	}
	_ = os.Setenv("PATH", "/bin:/bbin:/usr/bin:/sbin")
	return nil
}

// findPort waits for the virtio-serial port named guest.PortName.
func findPort() (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err == nil && strings.TrimSpace(string(b)) == guest.PortName {
				dev := "/dev/" + filepath.Base(filepath.Dir(n))
				if _, err := os.Stat(dev); err == nil {
					return dev, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no virtio-serial port named %q (is CONFIG_VIRTIO_CONSOLE set and the VM started with the agent channel?)", guest.PortName)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readTaint() uint64 {
	b, err := os.ReadFile("/proc/sys/kernel/tainted")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

func runAgent() {
	if err := setup(); err != nil {
		logf("setup: %v", err)
		return
	}
	kmsg, err := openKmsg()
	if err != nil {
		logf("%v", err)
		return
	}
	port, err := findPort()
	if err != nil {
		logf("%v", err)
		return
	}
	f, err := os.OpenFile(port, os.O_RDWR, 0)
	if err != nil {
		logf("open %s: %v", port, err)
		return
	}
	defer f.Close()
	conn := guest.NewConn(f)

	var uts unix.Utsname
	_ = unix.Uname(&uts)
	kmsg.drain()
	hello := guest.Hello{
		Release: unix.ByteSliceToString(uts.Release[:]),
		Machine: unix.ByteSliceToString(uts.Machine[:]),
		Taint:   readTaint(),
		Seq:     kmsg.next,
	}
	if err := conn.Send(hello); err != nil {
		logf("send hello: %v", err)
		return
	}
	for {
		var req guest.Request
		if err := conn.Recv(&req); err != nil {
			logf("read request: %v", err)
			return
		}
		resp := serve(kmsg, req)
		if err := conn.Send(resp); err != nil {
			logf("send response: %v", err)
			return
		}
		if req.Op == guest.OpShutdown {
			return
		}
	}
}

func serve(kmsg *kmsgReader, req guest.Request) guest.Response {
	resp := guest.Response{ID: req.ID, TaintBefore: readTaint()}
	kmsg.drain()
	start := time.Now()
	switch req.Op {
	case guest.OpPut:
		if err := put(req); err != nil {
			resp.Error = err.Error()
		}
	case guest.OpInsmod:
		runChild(&resp, req, "insmod", req.Path, req.Params)
	case guest.OpRmmod:
		runChild(&resp, req, "rmmod", req.Module)
	case guest.OpShutdown:
		unix.Sync()
	default:
		resp.Error = fmt.Sprintf("unknown operation %q", req.Op)
	}
	resp.DurationUS = time.Since(start).Microseconds()
	resp.Records, resp.Lost = kmsg.drain()
	resp.TaintAfter = readTaint()
	return resp
}

func put(req guest.Request) error {
	if !filepath.IsAbs(req.Path) {
		return fmt.Errorf("put: path %q is not absolute", req.Path)
	}
	if err := os.MkdirAll(filepath.Dir(req.Path), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(req.Mode)
	if mode == 0 {
		mode = 0o644
	}
	return os.WriteFile(req.Path, req.Data, mode)
}

// runChild re-executes this binary in child mode to perform op, so that an
// oops kills the child, and waits at most req.TimeoutMS for it.
func runChild(resp *guest.Response, req guest.Request, op string, args ...string) {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Env = append(os.Environ(), childEnv+"="+op)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		resp.Error = fmt.Sprintf("start %s helper: %v", op, err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timeout <-chan time.Time
	if req.TimeoutMS > 0 {
		timeout = time.After(time.Duration(req.TimeoutMS) * time.Millisecond)
	}
	select {
	case err := <-done:
		resp.Errno = strings.TrimSpace(out.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				resp.Signal = unix.SignalName(ws.Signal())
				resp.Errno = ""
			} else if resp.Errno == "" {
				resp.Error = fmt.Sprintf("%s helper failed: %v", op, err)
			}
		} else if err != nil {
			resp.Error = fmt.Sprintf("%s helper: %v", op, err)
		}
	case <-timeout:
		resp.Timeout = true
	}
}
