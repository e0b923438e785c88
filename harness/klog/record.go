package klog

import (
	"fmt"
	"strconv"
	"strings"
)

// Record is one kernel log record as /dev/kmsg returns it.
type Record struct {
	// Seq is the record's sequence number; it grows by one per record.
	Seq uint64 `json:"seq"`
	// Level is the log level (0 emerg .. 7 debug).
	Level int `json:"level"`
	// Facility is the syslog facility (0 for the kernel, 1 for user space).
	Facility int `json:"facility,omitempty"`
	// Usec is the timestamp in microseconds since boot.
	Usec uint64 `json:"usec"`
	// Text is the message with escapes undone; a multi-line printk keeps
	// its newlines.
	Text string `json:"text"`
	// Dict holds the KEY=value lines that follow the message (SUBSYSTEM,
	// DEVICE...).
	Dict map[string]string `json:"dict,omitempty"`
}

// Lines splits the record's text into lines.
func (r Record) Lines() []string { return strings.Split(r.Text, "\n") }

// String formats the record like dmesg does: "[    1.234567] text".
func (r Record) String() string {
	return fmt.Sprintf("[%5d.%06d] %s", r.Usec/1e6, r.Usec%1e6, r.Text)
}

// ParseRecord parses one record read from /dev/kmsg:
//
//	prio,seq,usec,flags[,...];message\n[ KEY=value\n]...
func ParseRecord(b []byte) (Record, error) {
	s := string(b)
	head, rest, ok := strings.Cut(s, ";")
	if !ok {
		return Record{}, fmt.Errorf("kmsg record without ';': %q", clip(s))
	}
	fields := strings.Split(head, ",")
	if len(fields) < 3 {
		return Record{}, fmt.Errorf("kmsg record header %q has fewer than 3 fields", clip(head))
	}
	prio, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil {
		return Record{}, fmt.Errorf("kmsg record priority %q: %w", fields[0], err)
	}
	seq, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return Record{}, fmt.Errorf("kmsg record sequence %q: %w", fields[1], err)
	}
	usec, err := strconv.ParseUint(fields[2], 10, 64)
	if err != nil {
		return Record{}, fmt.Errorf("kmsg record timestamp %q: %w", fields[2], err)
	}
	r := Record{Seq: seq, Level: int(prio & 7), Facility: int(prio >> 3), Usec: usec}
	msg, dict, _ := strings.Cut(rest, "\n")
	r.Text = Unescape(msg)
	for _, kv := range strings.Split(dict, "\n") {
		kv = strings.TrimPrefix(kv, " ")
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			if r.Dict == nil {
				r.Dict = map[string]string{}
			}
			r.Dict[k] = Unescape(v)
		}
	}
	return r, nil
}

// Unescape undoes /dev/kmsg's \xNN escapes of non-printable bytes and
// backslashes.
func Unescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
