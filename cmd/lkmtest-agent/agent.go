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
	"github.com/lkmtest/lkmtest/harness/klog"
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
	// debugfs where the kernel has it (kmemleak, the flavours' files).
	_ = unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	_ = os.Setenv("PATH", "/lkmtest/helpers:/bin:/bbin:/usr/bin:/sbin")
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
	b, err := readValue("/proc/sys/kernel/tainted")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// monotonicUS is CLOCK_MONOTONIC in microseconds: the clock of the kernel
// log's timestamps.
func monotonicUS() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano() / 1000
}

func runAgent() {
	initUS := monotonicUS()
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

	waitRNG()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	// The boot's records are not a request's; the marker ends them (and a
	// line left without its newline).
	kmsg.finish()
	hello := guest.Hello{
		Release: unix.ByteSliceToString(uts.Release[:]),
		Machine: unix.ByteSliceToString(uts.Machine[:]),
		Taint:   readTaint(),
		Seq:     kmsg.next,
		InitUS:  initUS,
		ReadyUS: monotonicUS(),
	}
	if err := conn.Send(hello); err != nil {
		logf("send hello: %v", err)
		return
	}
	for {
		var req guest.Request
		if err := conn.RecvRequest(&req); err != nil {
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
	// Records logged since the previous answer belong to this request: an
	// asynchronous message (a killed task's last words, a deferred work's
	// report) that arrives between two steps is never lost.
	resp.Records, resp.Lost = kmsg.drain()
	start := time.Now()
	switch req.Op {
	case guest.OpPut:
		if err := put(req); err != nil {
			resp.Error = err.Error()
		}
	case guest.OpInsmod:
		runChild(&resp, kmsg, req, "insmod", req.Path, req.Params)
	case guest.OpRmmod:
		runChild(&resp, kmsg, req, "rmmod", req.Module)
	case guest.OpShutdown:
		unix.Sync()
	case guest.OpRun:
		runProgram(&resp, kmsg, req)
	case guest.OpSignal:
		signalProgram(&resp, req)
	case guest.OpWait:
		waitProgram(&resp, kmsg, req)
	case guest.OpWrite:
		if err := os.WriteFile(req.Path, req.Data, 0o644); err != nil {
			resp.Errno = errnoName(err)
		}
	case guest.OpRead:
		readFile(&resp, req)
	case guest.OpState:
		resp.State = state()
	case guest.OpSleep:
		sleepCollecting(&resp, kmsg, time.Duration(req.TimeoutMS)*time.Millisecond, req.Until)
	case guest.OpShell:
		if err := startShell(req); err != nil {
			resp.Error = err.Error()
		}
	default:
		resp.Error = fmt.Sprintf("unknown operation %q", req.Op)
	}
	resp.DurationUS = time.Since(start).Microseconds()
	// Up to the agent's end-of-request marker: a line the request printed
	// without a trailing newline is its own, whatever the operation.
	recs, lost := kmsg.finish()
	addRecords(&resp, recs, lost)
	var dropped uint64
	resp.Records, dropped = guest.CapRecords(resp.Records, guest.MaxRecords)
	resp.Dropped += dropped
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

// oopsGrace is how long the agent lets the kernel finish printing an oops
// report before it ends the helper.
const oopsGrace = 300 * time.Millisecond

// runChild runs the module helper as /lkmtest/bin/<op> (lkmtest-child, or
// this binary in child mode), so that an oops kills the child, and waits
// at most req.TimeoutMS for it. While it
// waits it reads the kernel log: an oops kills only the faulting thread of
// the (multi-threaded) helper, so the agent ends the helper itself.
func runChild(resp *guest.Response, kmsg *kmsgReader, req guest.Request, op string, args ...string) {
	// /lkmtest/bin/<op> links to the module helper: the task's comm is op.
	cmd := exec.Command("/lkmtest/bin/"+op, args...)
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
	if err, ended := watch(resp, kmsg, req, cmd.Process, done); ended {
		finishChild(resp, op, out.String(), err)
	}
}

// watch waits for a started process to end, draining the kernel log into
// resp meanwhile. It kills the process shortly after an oops report (its
// task died in the kernel and will not come back) and gives up at the
// request's timeout. ended is false when it gave up or killed the process.
func watch(resp *guest.Response, kmsg *kmsgReader, req guest.Request, p *os.Process, done <-chan error) (err error, ended bool) {
	var timeout <-chan time.Time
	if req.TimeoutMS > 0 {
		timeout = time.After(time.Duration(req.TimeoutMS) * time.Millisecond)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var oopsed <-chan time.Time
	for {
		select {
		case err := <-done:
			return err, true
		case <-tick.C:
			recs, lost := kmsg.drain()
			addRecords(resp, recs, lost)
			if oopsed == nil && killedByOops(recs) {
				oopsed = time.After(oopsGrace)
			}
		case <-oopsed:
			_ = p.Kill()
			select {
			case <-done:
			case <-time.After(time.Second):
			}
			resp.Signal = "SIGSEGV"
			return nil, false
		case <-timeout:
			resp.Timeout = true
			return nil, false
		}
	}
}

// killedByOops reports whether recs hold a report that kills the task.
func killedByOops(recs []klog.Record) bool {
	var lines []string
	for _, r := range recs {
		lines = append(lines, r.Lines()...)
	}
	for _, rep := range klog.Find(lines) {
		if rep.Oops {
			return true
		}
	}
	return false
}

func finishChild(resp *guest.Response, op, out string, err error) {
	{
		resp.Errno = strings.TrimSpace(out)
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
	}
}

// addRecords adds records to a response, compacting it (the first and last
// guest.MaxRecords/2 kept) whenever it holds twice the limit: a flood
// costs the agent bounded memory.
func addRecords(resp *guest.Response, recs []klog.Record, lost uint64) {
	resp.Records, resp.Lost = append(resp.Records, recs...), resp.Lost+lost
	if len(resp.Records) > 2*guest.MaxRecords {
		var dropped uint64
		resp.Records, dropped = guest.CapRecords(resp.Records, guest.MaxRecords)
		resp.Dropped += dropped
	}
}

// waitRNG blocks until the kernel's RNG is seeded (getrandom without
// GRND_NONBLOCK returns then) and %p hashes pointers, at most 5 s in all:
// the VM's virtio-rng device seeds the RNG within a fraction of a second of
// boot, but 6.1 fills %p's hash key from a work item that polls the RNG
// every 2 s (6.12 fills it at once). The hello, and so a VM snapshot,
// comes after it: tests see hashed %p and a getrandom() that does not
// block. A kernel without a seed source goes on after 5 s.
func waitRNG() {
	deadline := time.Now().Add(5 * time.Second)
	done := make(chan struct{})
	go func() {
		var b [1]byte
		_, _ = unix.Getrandom(b[:], 0)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		logf("the kernel's RNG is not seeded after 5 s (no virtio-rng?): going on")
		return
	}
	// /proc/vmallocinfo prints addresses with %pK, which hashes like %p
	// (kptr_restrict is 0): "(____ptrval____)" until the key is filled.
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/vmallocinfo")
		if err != nil || !strings.Contains(string(b), "ptrval") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	logf("%%p still prints (____ptrval____) after 5 s: going on")
}
