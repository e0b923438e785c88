package guest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestTranscriptRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewTranscriptWriter(&buf)
	w.received(json.RawMessage(`{"version":1}`)) // the hello
	w.sent(Request{ID: 1, Op: OpPut, Path: "/lkm/a.ko", Data: []byte("ELF..."), Mode: 0o644})
	w.received(json.RawMessage(`{"id":1}`))
	// A step whose strings hold "} (" and " bytes of data)" must read whole.
	w.sent(Request{ID: 2, Op: OpRun, Args: []string{"sh", "-c", "echo '} (3 bytes of data)'"}})
	w.received(json.RawMessage(`{"id":2,"exit":0}`))
	w.sent(Request{ID: 3, Op: OpInsmod, Path: "/lkm/a.ko"})
	w.sent(Request{ID: 5, Op: OpRead, Path: "/sys/kernel/debug/kmemleak", Aux: true}) // not a step
	w.sent(Request{ID: 4, Op: OpShutdown})
	w.received(json.RawMessage(`{"id":4}`))
	path := filepath.Join(t.TempDir(), "agent.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadTranscript(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Sent) != 2 || tr.Sent[0] != 2 || tr.Sent[1] != 3 {
		t.Errorf("Sent = %v, want [2 3] (puts, aux requests and shutdown are not steps)\n%s", tr.Sent, buf.String())
	}
	if _, ok := tr.Answers[2]; !ok {
		t.Errorf("the answer to request 2 is missing")
	}
	if _, ok := tr.Answers[3]; ok {
		t.Errorf("request 3 was never answered, yet an answer was read")
	}
	if !tr.Shutdown {
		t.Errorf("the shutdown's answer was not seen")
	}
	if bytes.Contains(buf.Bytes(), []byte("ELF")) {
		t.Errorf("a put's data was written to the transcript")
	}
}

func TestTranscriptLegacyPutLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	text := `> {"id":1,"op":"put","path":"/lkm/a.ko","mode":420} (12 bytes of data)
< {"id":1}
> {"id":2,"op":"run","args":["echo","} (x"]}
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadTranscript(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Sent) != 1 || tr.Sent[0] != 2 {
		t.Errorf("Sent = %v, want [2]", tr.Sent)
	}
	if _, ok := tr.Answers[1]; !ok {
		t.Errorf("the legacy put line's answer is missing")
	}
}

func TestReadTranscriptMissing(t *testing.T) {
	tr, err := ReadTranscript(filepath.Join(t.TempDir(), "none"))
	if err != nil || len(tr.Sent) != 0 {
		t.Fatalf("missing transcript: %+v, %v; want empty, nil", tr, err)
	}
}
