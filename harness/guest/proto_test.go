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
	if err := c.SendPayload(Request{ID: 1, Op: OpPut, Path: "/lkm/a.ko", Size: len(big), Mode: 0o644}, big); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > len(big)+200 {
		t.Errorf("a put of %d bytes took %d on the wire: not sent raw", len(big), buf.Len())
	}
	if err := c.Send(Response{ID: 1, Errno: "ENOENT", Records: []klog.Record{{Seq: 3, Level: 4, Text: "a\nb"}}}); err != nil {
		t.Fatal(err)
	}
	var req Request
	if err := c.RecvRequest(&req); err != nil {
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

// TestCapRecords: a flood keeps its head and tail, and a crash report in
// the middle survives the cap with the lines after it.
func TestCapRecords(t *testing.T) {
	var recs []klog.Record
	for i := 0; i < 100000; i++ {
		text := "flood line"
		if i == 50000 {
			text = "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1"
		}
		recs = append(recs, klog.Record{Seq: uint64(i), Text: text})
	}
	out, dropped := CapRecords(recs, 1000)
	if out[0].Seq != 0 || out[len(out)-1].Seq != 99999 || int(dropped)+len(out) != len(recs) {
		t.Fatalf("kept %d, dropped %d, first %d, last %d", len(out), dropped, out[0].Seq, out[len(out)-1].Seq)
	}
	var warn, after int
	for _, r := range out {
		if r.Seq == 50000 {
			warn++
		}
		if r.Seq > 50000 && r.Seq <= 50000+reportWindow {
			after++
		}
	}
	if warn != 1 || after != reportWindow || len(out) != 1000+1+reportWindow {
		t.Errorf("the report in the middle: %d header, %d lines after it, %d kept in all", warn, after, len(out))
	}
	if small, d := CapRecords(recs[:10], 1000); len(small) != 10 || d != 0 {
		t.Errorf("under the cap: %d kept, %d dropped", len(small), d)
	}
}
