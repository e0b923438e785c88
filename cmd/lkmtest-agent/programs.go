package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/guest"
)

// program is a guest program started by a run step.
type program struct {
	cmd            *exec.Cmd
	stdout, stderr *capped
	done           chan error // receives cmd.Wait's result once
	err            error      // set when ended
	ended          bool
}

// background holds the programs started with a handle.
var background = struct {
	sync.Mutex
	m map[string]*program
}{m: map[string]*program{}}

// capped is a buffer that keeps the first guest.MaxOutput bytes.
type capped struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := guest.MaxOutput - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

func startProgram(args []string) (*program, error) {
	if len(args) == 0 {
		return nil, errors.New("run: no program given")
	}
	p := &program{stdout: &capped{}, stderr: &capped{}, done: make(chan error, 1)}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdin = nil
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Dir = "/tmp"
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p, nil
}

// finish records how a program ended in resp.
func (p *program) finish(resp *guest.Response) {
	resp.Stdout, resp.Stderr = p.stdout.String(), p.stderr.String()
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		code := 0
		resp.Exit = &code
	case errors.As(p.err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			resp.Signal = unix.SignalName(ws.Signal())
		} else {
			code := ee.ExitCode()
			resp.Exit = &code
		}
	default:
		resp.Error = fmt.Sprintf("program: %v", p.err)
	}
}

// await watches p until it ends, an oops kills it, or the timeout.
func (p *program) await(resp *guest.Response, kmsg *kmsgReader, req guest.Request) {
	if p.ended {
		p.finish(resp)
		return
	}
	err, ended := watch(resp, kmsg, req, p.cmd.Process, p.done)
	if !ended {
		if resp.Timeout {
			return // still running; a later wait may see it end
		}
		p.ended, p.err = true, nil
		resp.Stdout, resp.Stderr = p.stdout.String(), p.stderr.String()
		return
	}
	p.ended, p.err = true, err
	p.finish(resp)
}

func runProgram(resp *guest.Response, kmsg *kmsgReader, req guest.Request) {
	p, err := startProgram(req.Args)
	if err != nil {
		resp.Errno = errnoName(err)
		resp.Stderr = err.Error()
		return
	}
	resp.Pid = p.cmd.Process.Pid
	if req.Handle == "" {
		p.await(resp, kmsg, req)
		if resp.Timeout {
			_ = p.cmd.Process.Kill()
		}
		return
	}
	background.Lock()
	defer background.Unlock()
	if _, dup := background.m[req.Handle]; dup {
		_ = p.cmd.Process.Kill()
		resp.Error = fmt.Sprintf("run: handle %q is already in use", req.Handle)
		return
	}
	background.m[req.Handle] = p
}

func lookup(handle string) (*program, error) {
	background.Lock()
	defer background.Unlock()
	p, ok := background.m[handle]
	if !ok {
		return nil, fmt.Errorf("no background program %q (start one with run and background: %s)", handle, handle)
	}
	return p, nil
}

func signalProgram(resp *guest.Response, req guest.Request) {
	p, err := lookup(req.Handle)
	if err != nil {
		resp.Error = err.Error()
		return
	}
	sig := unix.SignalNum(req.Signal)
	if sig == 0 {
		resp.Error = fmt.Sprintf("signal: unknown signal %q", req.Signal)
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		resp.Errno = errnoName(err)
	}
}

func waitProgram(resp *guest.Response, kmsg *kmsgReader, req guest.Request) {
	p, err := lookup(req.Handle)
	if err != nil {
		resp.Error = err.Error()
		return
	}
	p.await(resp, kmsg, req)
}

func readFile(resp *guest.Response, req guest.Request) {
	f, err := os.Open(req.Path)
	if err != nil {
		resp.Errno = errnoName(err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, guest.MaxOutput))
	if err != nil {
		resp.Errno = errnoName(err)
	}
	resp.Data = data
}

func sleepCollecting(resp *guest.Response, kmsg *kmsgReader, d time.Duration, until string) {
	var re *regexp.Regexp
	if until != "" {
		var err error
		if re, err = regexp.Compile(until); err != nil {
			resp.Error = fmt.Sprintf("wait_log pattern: %v", err)
			return
		}
	}
	end := time.Now().Add(d)
	seen := 0 // records of resp already searched for until
	for {
		if re != nil {
			for ; seen < len(resp.Records); seen++ {
				for _, l := range resp.Records[seen].Lines() {
					if re.MatchString(l) {
						return
					}
				}
			}
		}
		if !time.Now().Before(end) {
			return
		}
		poll := 20 * time.Millisecond
		if re != nil {
			poll = 5 * time.Millisecond // an event is waited for: answer soon after it
		}
		time.Sleep(min(poll, time.Until(end)))
		recs, lost := kmsg.drain()
		addRecords(resp, recs, lost)
	}
}

// errnoName is the symbolic errno of err ("EACCES"), or "EIO".
func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return "ENOENT"
	}
	return "EIO"
}
