package guest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/lkmtest/lkmtest/harness/klog"
)

// PortName is the name of the virtio-serial port of the agent.
const PortName = "lkmtest"

// MaxMessage is the largest message either side accepts, and the largest
// raw payload of a put (a module image, a static helper).
const MaxMessage = 64 << 20

// Op is a request's operation.
type Op string

// The operations the agent performs.
const (
	// OpPut writes Data to Path with Mode.
	OpPut Op = "put"
	// OpInsmod loads the module at Path with Params (finit_module).
	OpInsmod Op = "insmod"
	// OpRmmod unloads the module Module (delete_module).
	OpRmmod Op = "rmmod"
	// OpShutdown syncs and resets the VM (QEMU exits because of -no-reboot).
	OpShutdown Op = "shutdown"
	// OpRun runs Args (a program and its arguments); with Handle it runs
	// in the background and the answer comes at once.
	OpRun Op = "run"
	// OpSignal sends Signal ("SIGUSR1") to the background program Handle.
	OpSignal Op = "signal"
	// OpWait waits for the background program Handle to end.
	OpWait Op = "wait"
	// OpWrite writes Data to the file Path (sysfs, procfs, /dev nodes).
	OpWrite Op = "write"
	// OpRead reads the file Path into the response's Data.
	OpRead Op = "read"
	// OpSleep waits TimeoutMS, collecting the kernel log; with Until, it
	// answers as soon as a line of the log it collected matches Until.
	OpSleep Op = "sleep"
	// OpShell starts an interactive shell (Args, default /bin/sh) on the
	// serial console, sized Rows x Cols, and answers once it runs; when
	// the shell exits the agent powers the VM off. It is the last request.
	OpShell Op = "shell"
	// OpState describes what a test can leave behind in the guest (see
	// Response.State), and forgets the background programs that ended: a
	// host request between tests, to decide whether the VM may run
	// another.
	OpState Op = "state"
)

// MaxRecords bounds the kernel log records of one response: past it the
// agent keeps the first and last MaxRecords/2 and counts the rest in
// Dropped, so that a module flooding the log cannot exhaust either side's
// memory.
const MaxRecords = 20000

// MaxOutput bounds the standard output, standard error and read data the
// agent returns for one request.
const MaxOutput = 1 << 20

// Hello is the agent's first message.
type Hello struct {
	// Release is the kernel release (uname -r).
	Release string `json:"release"`
	// Machine is uname -m.
	Machine string `json:"machine"`
	// Taint is /proc/sys/kernel/tainted at start.
	Taint uint64 `json:"taint"`
	// Seq is the sequence number of the next kernel log record.
	Seq uint64 `json:"seq"`
	// InitUS and ReadyUS are the guest's monotonic clock (the kernel log's
	// timestamps) when the agent started and when it sent this hello.
	InitUS  int64 `json:"init_us,omitempty"`
	ReadyUS int64 `json:"ready_us,omitempty"`
	// Error is set when the agent could not set up the guest.
	Error string `json:"error,omitempty"`
}

// Request is one thing for the agent to do.
type Request struct {
	// ID is echoed in the response.
	ID int `json:"id"`
	// Op is the operation.
	Op Op `json:"op"`
	// Path is the file of put and insmod.
	Path string `json:"path,omitempty"`
	// Data is the content of write, and of put in a Go value; on the wire
	// a put's content follows its line raw (Size bytes): no base64 for
	// the guest to decode.
	Data []byte `json:"data,omitempty"`
	// Size is how many raw bytes follow the request's line (put).
	Size int `json:"size,omitempty"`
	// Mode is the permission bits of put.
	Mode uint32 `json:"mode,omitempty"`
	// Module is the module name of rmmod, as the kernel spells it (the
	// host sends hello_1 for a step's "rmmod: hello-1").
	Module string `json:"module,omitempty"`
	// Params are the module parameters of insmod, passed as they are.
	Params string `json:"params,omitempty"`
	// Args are the program and arguments of run.
	Args []string `json:"args,omitempty"`
	// Handle names a background program (run, signal, wait).
	Handle string `json:"handle,omitempty"`
	// Signal is the signal name of signal.
	Signal string `json:"signal,omitempty"`
	// Rows and Cols are the terminal size of shell (0: 24 x 80).
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// TimeoutMS bounds the operation; the agent answers with Timeout set
	// when it is exceeded (0: no limit).
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Until is sleep's regular expression: the answer comes when a kernel
	// log line matches it (at most TimeoutMS).
	Until string `json:"until,omitempty"`
	// Aux marks a request of the host's own between steps (a kmemleak
	// scan, reading where a module was loaded): not a step of the test.
	// The agent treats it like any other.
	Aux bool `json:"aux,omitempty"`
}

// Response is the agent's answer to a Request.
type Response struct {
	// ID is the request's ID.
	ID int `json:"id"`
	// Error is an agent failure (not a test result): the request could not
	// be carried out.
	Error string `json:"error,omitempty"`
	// Errno is the symbolic error of the system call ("ENOENT"), "" on
	// success.
	Errno string `json:"errno,omitempty"`
	// Signal is set when the helper process running the request was killed
	// by a signal (an oops kills the task that caused it).
	Signal string `json:"signal,omitempty"`
	// Timeout is true when the request did not finish within TimeoutMS.
	Timeout bool `json:"timeout,omitempty"`
	// Records are the kernel log records written while the request ran:
	// from the end of the previous request up to the marker record the
	// agent logs at the end of this one (left out: its sequence number is
	// the only one missing between two responses).
	Records []klog.Record `json:"records,omitempty"`
	// Lost counts records overwritten before the agent could read them.
	Lost uint64 `json:"lost,omitempty"`
	// Dropped counts records the agent read but left out (MaxRecords).
	Dropped uint64 `json:"dropped,omitempty"`
	// TaintBefore and TaintAfter are /proc/sys/kernel/tainted around it.
	TaintBefore uint64 `json:"taint_before"`
	TaintAfter  uint64 `json:"taint_after"`
	// DurationUS is how long the operation took, in microseconds.
	DurationUS int64 `json:"duration_us"`
	// Exit is the exit status of a program that ended normally (run, wait).
	Exit *int `json:"exit,omitempty"`
	// Stdout and Stderr are a program's output (at most MaxOutput each).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Data is what read returned.
	Data []byte `json:"data,omitempty"`
	// Pid is the process ID of a program started by run.
	Pid int `json:"pid,omitempty"`
	// State is state's answer: by name ("taint", "modules", "processes",
	// "mounts", "sysctl kernel/...", "ls /tmp", "background"), a value
	// that two identical guests share.
	State map[string]string `json:"state,omitempty"`
}

// Conn reads and writes protocol messages on a stream.
type Conn struct {
	r  *bufio.Reader
	w  io.Writer
	mu sync.Mutex
}

// NewConn wraps a stream.
func NewConn(rw io.ReadWriter) *Conn {
	return &Conn{r: bufio.NewReaderSize(rw, 256<<10), w: rw}
}

// Send writes one message.
func (c *Conn) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.w.Write(b)
	return err
}

// SendPayload writes one message, then payload raw (RecvRequest reads
// both).
func (c *Conn) SendPayload(v any, payload []byte) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(append(b, '\n'), payload...)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.w.Write(b)
	return err
}

// RecvRequest reads one request and the raw content that follows it
// (Size bytes) into Data.
func (c *Conn) RecvRequest(req *Request) error {
	if err := c.Recv(req); err != nil {
		return err
	}
	if req.Size == 0 {
		return nil
	}
	data, err := c.readPayload(req.Size)
	if err != nil {
		return fmt.Errorf("request %d: %w", req.ID, err)
	}
	req.Data, req.Size = data, 0
	return nil
}

// readPayload reads the n raw bytes that follow the message just received.
func (c *Conn) readPayload(n int) ([]byte, error) {
	if n < 0 || n > MaxMessage {
		return nil, fmt.Errorf("payload of %d bytes (at most %d)", n, MaxMessage)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	return b, nil
}

// Recv reads one message into v.
func (c *Conn) Recv(v any) error {
	var line []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxMessage {
			return fmt.Errorf("message longer than %d bytes", MaxMessage)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		break
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("decode message: %w", err)
	}
	return nil
}

// CapRecords keeps the first and last max/2 of recs when there are more
// than max, and returns how many it left out. From the middle it still
// keeps every record that may start a crash report, with the reportWindow
// records after it (up to max more in all): a flood never hides a crash.
func CapRecords(recs []klog.Record, max int) ([]klog.Record, uint64) {
	if len(recs) <= max {
		return recs, 0
	}
	half := max / 2
	out := make([]klog.Record, 0, 2*half)
	out = append(out, recs[:half]...)
	keepUntil, extra := -1, 0
	for i := half; i < len(recs)-half && extra < max; i++ {
		if klog.MayStartReport(recs[i].Text) {
			keepUntil = i + reportWindow
		}
		if i <= keepUntil {
			out = append(out, recs[i])
			extra++
		}
	}
	out = append(out, recs[len(recs)-half:]...)
	return out, uint64(len(recs) - len(out))
}

// reportWindow is how many records after a report's first line CapRecords
// keeps with it.
const reportWindow = 80
