package guest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// The ways a call to the agent fails without an answer.
var (
	// ErrGone: the agent's channel closed or the VM ended.
	ErrGone = errors.New("the VM exited")
	// ErrNoAnswer: the agent did not answer in time.
	ErrNoAnswer = errors.New("no answer from the guest agent in time")
)

// Client is the host's side of a session with the agent: requests go out
// with increasing ids, each answer is awaited with a deadline, and every
// message is written to the transcript (see Transcript).
type Client struct {
	conn *Conn
	msgs chan json.RawMessage
	err  chan error
	done <-chan struct{}
	log  *TranscriptWriter
	id   int
}

// NewClient reads the agent's messages from rw in a goroutine of its own.
// done closes when the VM ends; tr may be nil (no transcript).
func NewClient(rw io.ReadWriter, done <-chan struct{}, tr *TranscriptWriter) *Client {
	c := &Client{conn: NewConn(rw), msgs: make(chan json.RawMessage, 4), err: make(chan error, 1), done: done, log: tr}
	go func() {
		for {
			var m json.RawMessage
			if err := c.conn.Recv(&m); err != nil {
				c.err <- err
				return
			}
			c.msgs <- m
		}
	}()
	return c
}

// next waits for the agent's next message, the VM's end, or the timeout.
func (c *Client) next(ctx context.Context, v any, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-c.msgs:
		c.log.received(m)
		return json.Unmarshal(m, v)
	case err := <-c.err:
		<-c.done
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrGone
		}
		return fmt.Errorf("%w (agent channel: %v)", ErrGone, err)
	case <-c.done:
		return ErrGone
	case <-t.C:
		return ErrNoAnswer
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hello waits up to timeout for the agent's first message; an agent that
// says it could not start is an error.
func (c *Client) Hello(ctx context.Context, timeout time.Duration) (Hello, error) {
	var h Hello
	if err := c.next(ctx, &h, timeout); err != nil {
		return h, err
	}
	if h.Error != "" {
		return h, fmt.Errorf("agent: %s", h.Error)
	}
	return h, nil
}

// Call sends req with the next id and waits up to wait for its answer.
func (c *Client) Call(ctx context.Context, req Request, wait time.Duration) (Response, error) {
	c.id++
	req.ID = c.id
	var resp Response
	c.log.sent(req)
	var err error
	if req.Op == OpPut && len(req.Data) > 0 {
		data := req.Data
		req.Data, req.Size = nil, len(data)
		err = c.conn.SendPayload(req, data)
	} else {
		err = c.conn.Send(req)
	}
	if err != nil {
		return resp, fmt.Errorf("%w (send: %v)", ErrGone, err)
	}
	if err := c.next(ctx, &resp, wait); err != nil {
		return resp, err
	}
	if resp.ID != req.ID {
		return resp, fmt.Errorf("agent answered request %d with id %d", req.ID, resp.ID)
	}
	return resp, nil
}

// SetTranscript sends the transcript of the requests from now on to tr
// (nil: none): a VM that goes on to another test starts that test's.
func (c *Client) SetTranscript(tr *TranscriptWriter) { c.log = tr }

// File is a host file to put in the guest.
type File struct {
	Src, Dst string
	Mode     uint32
}

// putTimeout bounds one file's copy into the guest.
const putTimeout = 30 * time.Second

// Put copies files into the guest, in order; the agent's error for a file
// is returned as an error naming it.
func (c *Client) Put(ctx context.Context, files []File) error {
	for _, f := range files {
		data, err := os.ReadFile(f.Src)
		if err == nil {
			var resp Response
			resp, err = c.Call(ctx, Request{Op: OpPut, Path: f.Dst, Data: data, Mode: f.Mode}, putTimeout)
			if err == nil && resp.Error != "" {
				err = errors.New(resp.Error)
			}
		}
		if err != nil {
			return fmt.Errorf("copy %s into the guest as %s: %w", f.Src, f.Dst, err)
		}
	}
	return nil
}
