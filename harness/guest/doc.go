// Package guest is the protocol between lkmtest on the host and its agent,
// which runs as /init inside the VM (cmd/lkmtest-agent): the messages
// (Hello, Request, Response), their framing (Conn), the host's side of a
// session (Client) and its transcript (TranscriptWriter, ReadTranscript).
//
// The two talk over a virtio-serial port named "lkmtest" (the host end is
// a unix socket of QEMU), one JSON object per line, so that test results
// never mix with the kernel's console output. The agent speaks first with
// a Hello; then the host sends Requests and the agent answers each with a
// Response carrying the same ID and the kernel-log records written since
// its previous answer, up to the end of the request.
//
// What it promises:
//   - A call ends: with the answer, with ErrGone once the VM has ended or
//     its channel closed, with ErrNoAnswer after the caller's deadline, or
//     with the context's error. An answer to another request is an error.
//   - Neither side accepts a message longer than MaxMessage; the agent caps
//     a response's output at MaxOutput bytes and its records with
//     CapRecords (the first and last MaxRecords/2, counting the rest), so a
//     module flooding the log cannot exhaust either side's memory, yet
//     every record that may start a crash report is kept.
//   - Every message of a session is in its transcript (agent.log, request
//     data by length only), from which a run can be judged again.
//
// The agent is a small static guest binary: this package imports only the
// standard library and klog.
package guest
