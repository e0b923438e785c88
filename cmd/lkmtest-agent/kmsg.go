package main

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/klog"
)

// kmsgReader reads /dev/kmsg without Go's poller (which would block at the
// end of the buffer instead of returning EAGAIN).
type kmsgReader struct {
	fd   int
	buf  []byte
	next uint64 // sequence number expected next
	// read reads one record (unix.Read on fd; tests replace it).
	read func(p []byte) (int, error)
	// write logs one record (a write to /dev/kmsg; tests replace it).
	write func(p []byte) (int, error)
	// marks counts the markers logged.
	marks uint64
}

func openKmsg() (*kmsgReader, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/kmsg: %w", err)
	}
	wfd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open /dev/kmsg for writing: %w", err)
	}
	return &kmsgReader{
		fd: fd, buf: make([]byte, 16<<10),
		read:  func(p []byte) (int, error) { return unix.Read(fd, p) },
		write: func(p []byte) (int, error) { return unix.Write(wfd, p) },
	}, nil
}

// markerPrefix opens the text of the agent's end-of-request markers.
const markerPrefix = "lkmtest-agent: end of request "

// markerText is the text of the n-th marker.
func markerText(n uint64) string { return fmt.Sprintf("%s%d", markerPrefix, n) }

// isMarker reports whether r is a marker the agent logged: a record of
// user space (facility 1: a write to /dev/kmsg, never a printk) with the
// agent's text.
func isMarker(r klog.Record) bool {
	return r.Facility == 1 && strings.HasPrefix(r.Text, markerPrefix)
}

// drain returns every record written since the last call, markers left
// out, and the number of records lost to ring-buffer overwrites.
func (k *kmsgReader) drain() ([]klog.Record, uint64) {
	recs, lost, _ := k.readUntil("")
	return recs, lost
}

// finish ends a request's window of the kernel log: it logs a marker and
// returns the records up to it. The kernel keeps a line printed without
// a trailing newline unfinished, invisible to /dev/kmsg readers, until
// the next record is logged; the marker is that record, so such a line
// belongs to the request that printed it. The marker itself is left out,
// and the records after it are left for the next request.
func (k *kmsgReader) finish() ([]klog.Record, uint64) {
	k.marks++
	want := markerText(k.marks)
	// Level 7 (debug) of facility 1 (user): the console does not print it
	// at the default console log level. The newline finishes the marker
	// itself at once.
	if _, err := k.write([]byte("<15>" + want + "\n")); err != nil {
		logf("log the end-of-request marker: %v", err)
		return k.drain()
	}
	// The record is stored when write returns: reading until EAGAIN finds
	// it, unless it was overwritten in the ring buffer meanwhile (then
	// everything read belongs to this request all the same).
	recs, lost, _ := k.readUntil(want)
	return recs, lost
}

// readUntil reads records until none is left or, when stop is not "", up
// to and including the marker whose text is stop. It leaves markers out of
// recs; their sequence numbers are not counted as lost.
func (k *kmsgReader) readUntil(stop string) (recs []klog.Record, lost uint64, found bool) {
	for {
		n, err := k.read(k.buf)
		if errors.Is(err, unix.EAGAIN) {
			return recs, lost, false
		}
		if errors.Is(err, unix.EPIPE) {
			continue // overwritten; the next read resumes at the oldest record
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return recs, lost, false
		}
		r, perr := klog.ParseRecord(k.buf[:n])
		if perr != nil {
			continue
		}
		if k.next != 0 && r.Seq > k.next {
			lost += r.Seq - k.next
		}
		k.next = r.Seq + 1
		if isMarker(r) {
			if stop != "" && r.Text == stop {
				return recs, lost, true
			}
			continue
		}
		recs = append(recs, r)
	}
}
