package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Fatalf and Skipf are recorded rather than
// ending the test, so that this test sees what MustRun did.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func (r *recorder) Skipf(format string, args ...any) { r.skip = fmt.Sprintf(format, args...) }

func TestMustRun(t *testing.T) {
	for _, c := range []struct {
		ci        string
		wantFatal bool
	}{{"true", true}, {"1", true}, {"", false}, {"false", false}, {"no", false}} {
		t.Run("CI="+c.ci, func(t *testing.T) {
			t.Setenv("CI", c.ci)
			r := &recorder{TB: t}
			MustRun(r, "mounting a tmpfs needs root")
			if got := r.fatal != ""; got != c.wantFatal {
				t.Errorf("failed: %v (%q), want %v", got, r.fatal, c.wantFatal)
			}
			if got := r.skip != ""; got == c.wantFatal {
				t.Errorf("skipped: %v (%q), want %v", got, r.skip, !c.wantFatal)
			}
			if msg := r.fatal + r.skip; !strings.Contains(msg, "mounting a tmpfs needs root") {
				t.Errorf("the message %q does not say why", msg)
			}
		})
	}
}
