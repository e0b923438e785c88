package guest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/klog"
)

func TestConnRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	c := NewConn(&buf)
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 200<<10) // larger than the reader's buffer
	if err := c.Send(Request{ID: 1, Op: OpPut, Path: "/lkm/a.ko", Data: big, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(Response{ID: 1, Errno: "ENOENT", Records: []klog.Record{{Seq: 3, Level: 4, Text: "a\nb"}}}); err != nil {
		t.Fatal(err)
	}
	var req Request
	if err := c.Recv(&req); err != nil {
		t.Fatal(err)
	}
	if req.Op != OpPut || req.Path != "/lkm/a.ko" || !bytes.Equal(req.Data, big) {
		t.Errorf("request = %s %s with %d bytes", req.Op, req.Path, len(req.Data))
	}
	var resp Response
	if err := c.Recv(&resp); err != nil {
		t.Fatal(err)
	}
	if resp.Errno != "ENOENT" || len(resp.Records) != 1 || resp.Records[0].Text != "a\nb" {
		t.Errorf("response = %+v", resp)
	}
	if err := c.Recv(&resp); err != io.EOF {
		t.Errorf("at the end: %v, want EOF", err)
	}
}

func TestConnErrors(t *testing.T) {
	var resp Response
	if err := NewConn(bytes.NewBufferString(`{"id":1`)).Recv(&resp); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated message: %v, want unexpected EOF", err)
	}
	if err := NewConn(bytes.NewBufferString("not json\n")).Recv(&resp); err == nil || !strings.Contains(err.Error(), "decode message") {
		t.Errorf("garbage: %v", err)
	}
}

// FuzzRecv feeds arbitrary bytes to both ends of the protocol: Recv must
// return messages or errors, never panic, and a request that decodes must
// survive a round trip.
func FuzzRecv(f *testing.F) {
	f.Add([]byte(`{"id":1,"op":"insmod","path":"/lkm/a.ko","params":"x=1"}` + "\n"))
	f.Add([]byte(`{"id":2,"records":[{"seq":1,"level":4,"usec":5,"text":"hi"}],"taint_before":0,"taint_after":4096}` + "\n"))
	f.Add([]byte(`{"release":"6.1.192","machine":"x86_64","seq":3}` + "\n{\"id\":"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"id":1,"data":"AAEC","op":"put"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewConn(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(data), io.Discard})
		for i := 0; i < 64; i++ {
			var req Request
			if err := c.Recv(&req); err != nil {
				if err == io.EOF {
					break
				}
				continue
			}
			var buf bytes.Buffer
			out := NewConn(struct {
				io.Reader
				io.Writer
			}{&buf, &buf})
			if err := out.Send(req); err != nil {
				t.Fatalf("send of a decoded request: %v", err)
			}
			var back Request
			if err := out.Recv(&back); err != nil {
				t.Fatalf("round trip of %+v: %v", req, err)
			}
		}
		c2 := NewConn(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(data), io.Discard})
		for i := 0; i < 64; i++ {
			var resp Response
			if err := c2.Recv(&resp); err == io.EOF {
				break
			}
		}
	})
}
