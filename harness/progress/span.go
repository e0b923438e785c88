package progress

import (
	"context"
	"time"
)

// Span is one piece of work that took time: something made once into the
// cache (Kind is its cache kind: "src", "base", "kernels", "snapshots"...;
// Name its key) or a test (Kind "test", Name "hello on 6.1.192-x86_64").
// A run's spans are its timeline (timeline.json): where a cold run's time
// went, phase by phase.
type Span struct {
	Kind  string    `json:"kind"`
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// SpanFunc receives spans; it must be safe for concurrent use.
type SpanFunc func(Span)

type spanKey struct{}

// WithSpans returns a context whose work records its spans to f.
func WithSpans(ctx context.Context, f SpanFunc) context.Context {
	return context.WithValue(ctx, spanKey{}, f)
}

// Record sends the span of kind and name that started at start and ends
// now to the context's SpanFunc, if any.
func Record(ctx context.Context, kind, name string, start time.Time) {
	if f, ok := ctx.Value(spanKey{}).(SpanFunc); ok && f != nil {
		f(Span{Kind: kind, Name: name, Start: start, End: time.Now()})
	}
}
