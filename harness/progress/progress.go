package progress

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// Event is the state of one task.
type Event struct {
	// Task names the work: "kernel 6.1.192 x86_64", "hello on 6.1.192-x86_64".
	Task string
	// Phase is what it is doing now: "compiling", "step 2/5: insmod hello".
	Phase string
	// Done and Total count its units (objects, bytes); Total 0 is unknown.
	Done, Total int64
	// Unit names what Done counts ("objects", "bytes"); "" when nothing.
	Unit string
	// End is true on the task's last event.
	End bool
}

// Func receives events; it must be safe for concurrent use.
type Func func(Event)

type key struct{}

// With returns a context whose work reports to f.
func With(ctx context.Context, f Func) context.Context { return context.WithValue(ctx, key{}, f) }

// Send reports e to the context's Func, if any.
func Send(ctx context.Context, e Event) {
	if f, ok := ctx.Value(key{}).(Func); ok && f != nil {
		f(e)
	}
}

// Enabled reports whether anyone listens (to skip costly bookkeeping).
func Enabled(ctx context.Context) bool {
	f, ok := ctx.Value(key{}).(Func)
	return ok && f != nil
}

// ObjectCounter is a writer for kbuild's output that counts the objects it
// reports ("  CC      kernel/fork.o", "  AS ...", "  LD ...") and sends a
// "compiling" event for each, against total (the object count of an
// earlier build of the same kernel version and arch; 0 when unknown).
type ObjectCounter struct {
	ctx   context.Context
	task  string
	total int64

	mu      sync.Mutex
	n       int64
	partial []byte
}

// NewObjectCounter returns a counter reporting as task.
func NewObjectCounter(ctx context.Context, task string, total int64) *ObjectCounter {
	return &ObjectCounter{ctx: ctx, task: task, total: total}
}

var _ io.Writer = (*ObjectCounter)(nil)

// objectVerbs are kbuild's quiet-mode verbs that produce one object.
var objectVerbs = [][]byte{[]byte("CC"), []byte("AS"), []byte("LD"), []byte("AR")}

func (c *ObjectCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data := append(c.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if isObjectLine(data[:i]) {
			c.n++
			Send(c.ctx, Event{Task: c.task, Phase: "compiling", Done: c.n, Total: c.total, Unit: "objects"})
		}
		data = data[i+1:]
	}
	c.partial = append(c.partial[:0], data...)
	return len(p), nil
}

func isObjectLine(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("  ")) {
		return false
	}
	rest := bytes.TrimLeft(line, " ")
	for _, v := range objectVerbs {
		if bytes.HasPrefix(rest, v) && len(rest) > len(v) && rest[len(v)] == ' ' {
			return true
		}
	}
	return false
}

// Count returns the objects counted so far.
func (c *ObjectCounter) Count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Reader wraps r and reports the bytes read as task.
type Reader struct {
	R     io.Reader
	Ctx   context.Context
	Task  string
	Total int64
	n     int64
}

func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.n += int64(n)
	if n > 0 {
		Send(r.Ctx, Event{Task: r.Task, Phase: "downloading", Done: r.n, Total: r.Total, Unit: "bytes"})
	}
	return n, err
}
