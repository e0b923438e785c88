package main

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/lkmtest/lkmtest/harness/klog"
)

// kmsgReader reads /dev/kmsg without Go's poller (which would block at the
// end of the buffer instead of returning EAGAIN).
type kmsgReader struct {
	fd   int
	buf  []byte
	next uint64 // sequence number expected next
}

func openKmsg() (*kmsgReader, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/kmsg: %w", err)
	}
	return &kmsgReader{fd: fd, buf: make([]byte, 16<<10)}, nil
}

// drain returns every record written since the last call and the number of
// records lost to ring-buffer overwrites.
func (k *kmsgReader) drain() ([]klog.Record, uint64) {
	var recs []klog.Record
	var lost uint64
	for {
		n, err := unix.Read(k.fd, k.buf)
		if errors.Is(err, unix.EAGAIN) {
			return recs, lost
		}
		if errors.Is(err, unix.EPIPE) {
			continue // overwritten; the next read resumes at the oldest record
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return recs, lost
		}
		r, perr := klog.ParseRecord(k.buf[:n])
		if perr != nil {
			continue
		}
		if k.next != 0 && r.Seq > k.next {
			lost += r.Seq - k.next
		}
		k.next = r.Seq + 1
		recs = append(recs, r)
	}
}
