package guest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// A transcript (agent.log in a test's run directory) is every message of a
// session, one per line: "> " and the request's JSON for what the host
// sent, "< " and the message's JSON for what the agent answered. A
// request's data is left out: its length follows on the next line as
// "# N bytes of data". 'lkmtest verdict' re-judges a run from it.

// TranscriptWriter writes a transcript; a nil one writes nothing.
type TranscriptWriter struct{ w io.Writer }

// NewTranscriptWriter writes a transcript to w.
func NewTranscriptWriter(w io.Writer) *TranscriptWriter { return &TranscriptWriter{w: w} }

func (t *TranscriptWriter) sent(req Request) {
	if t == nil {
		return
	}
	n := len(req.Data)
	req.Data = nil
	b, _ := json.Marshal(req)
	fmt.Fprintf(t.w, "> %s\n", b)
	if n > 0 {
		fmt.Fprintf(t.w, "# %d bytes of data\n", n)
	}
}

func (t *TranscriptWriter) received(m json.RawMessage) {
	if t != nil {
		fmt.Fprintf(t.w, "< %s\n", m)
	}
}

// Transcript is what a transcript holds.
type Transcript struct {
	// Sent are the ids of the requests other than puts and shutdown (a
	// test's steps), in order.
	Sent []int
	// Answers are the responses by request id.
	Answers map[int]Response
	// Shutdown: the test's last request, a shutdown or the guest's state
	// (guest.OpState), was answered after its last step.
	Shutdown bool
}

// ReadTranscript reads the transcript at path; a missing file is an empty
// transcript (no VM was started).
func ReadTranscript(path string) (*Transcript, error) {
	tr := &Transcript{Answers: map[int]Response{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return tr, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agent transcript: %w", err)
	}
	defer f.Close()
	shutdownID := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), MaxMessage)
	for sc.Scan() {
		line := sc.Text()
		if js, ok := strings.CutPrefix(line, "> "); ok {
			var req Request
			if json.Unmarshal([]byte(legacyRequest(js)), &req) != nil {
				continue
			}
			switch {
			case req.Op == OpShutdown || req.Op == OpState:
				// The last request of a test that ran to its end:
				// a shutdown, or the state asked of a VM that may
				// run the next test (the first state, before any
				// step, does not count).
				shutdownID = req.ID
			case req.Op == OpPut || req.Aux:
			default:
				tr.Sent = append(tr.Sent, req.ID)
				tr.Shutdown = false
			}
		} else if js, ok := strings.CutPrefix(line, "< "); ok {
			var resp Response
			if json.Unmarshal([]byte(js), &resp) != nil || resp.ID == 0 {
				continue // the hello
			}
			if resp.ID == shutdownID {
				tr.Shutdown = true
			}
			tr.Answers[resp.ID] = resp
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("agent transcript %s: %w", path, err)
	}
	return tr, nil
}

// legacyRequest strips the " (N bytes of data)" that older transcripts put
// after a put request's JSON, on the same line. Only
// a suffix of exactly that form is removed, so a request whose strings
// hold "} (" reads whole.
func legacyRequest(js string) string {
	if !strings.HasSuffix(js, " bytes of data)") {
		return js
	}
	i := strings.LastIndex(js, "} (")
	if i < 0 {
		return js
	}
	var n int
	if _, err := fmt.Sscanf(js[i+3:], "%d bytes of data)", &n); err != nil || fmt.Sprintf("%d bytes of data)", n) != js[i+3:] {
		return js
	}
	return js[:i+1]
}
