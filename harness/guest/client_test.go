package guest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// fakeAgent answers requests on c: answer decides each response (nil: no
// answer at all).
func fakeAgent(t *testing.T, c net.Conn, answer func(Request) *Response) {
	t.Helper()
	conn := NewConn(c)
	go func() {
		_ = conn.Send(Hello{})
		for {
			var req Request
			if conn.RecvRequest(&req) != nil {
				return
			}
			if resp := answer(req); resp != nil {
				_ = conn.Send(resp)
			}
		}
	}()
}

func TestClientCall(t *testing.T) {
	host, guest := net.Pipe()
	defer host.Close()
	fakeAgent(t, guest, func(r Request) *Response {
		switch r.Op {
		case OpSleep:
			return nil // never answers
		case OpRmmod:
			return &Response{ID: r.ID + 7} // a wrong id
		}
		return &Response{ID: r.ID}
	})
	done := make(chan struct{})
	c := NewClient(host, done, nil)
	ctx := context.Background()
	if _, err := c.Hello(ctx, time.Minute); err != nil {
		t.Fatalf("hello: %v", err)
	}
	resp, err := c.Call(ctx, Request{Op: OpInsmod}, time.Minute)
	if err != nil || resp.ID != 1 {
		t.Fatalf("first call: %+v, %v; want id 1", resp, err)
	}
	if _, err := c.Call(ctx, Request{Op: OpRmmod}, time.Minute); err == nil {
		t.Errorf("an answer with the wrong id was accepted")
	}
	if _, err := c.Call(ctx, Request{Op: OpSleep}, 10*time.Millisecond); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("unanswered call: %v, want ErrNoAnswer", err)
	}
	close(done)
	guest.Close()
	if _, err := c.Call(ctx, Request{Op: OpInsmod}, time.Minute); !errors.Is(err, ErrGone) {
		t.Errorf("call after the VM ended: %v, want ErrGone", err)
	}
}

func TestClientHelloError(t *testing.T) {
	host, guest := net.Pipe()
	defer host.Close()
	go func() { _ = NewConn(guest).Send(Hello{Error: "no /dev/kmsg"}) }()
	c := NewClient(host, make(chan struct{}), nil)
	if _, err := c.Hello(context.Background(), time.Minute); err == nil || err.Error() != "agent: no /dev/kmsg" {
		t.Errorf("hello with an error: %v", err)
	}
}
