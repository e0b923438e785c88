package harness

import (
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/modbuild"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// stepRequest is the agent request that carries out a step, with the
// values earlier steps captured put in for ${name}.
func stepRequest(st *spec.Step, timeout time.Duration, vars map[string]string) (guest.Request, error) {
	var expandErr error
	x := func(s string) string {
		out, err := spec.Expand(s, vars)
		if err != nil && expandErr == nil {
			expandErr = err
		}
		return out
	}
	req := guest.Request{Op: guest.Op(st.Kind()), TimeoutMS: timeout.Milliseconds()}
	switch st.Kind() {
	case spec.StepInsmod:
		req.Path, req.Params = modbuild.GuestModuleDir+"/"+st.Module()+".ko", x(st.Params)
	case spec.StepRmmod:
		// The kernel names hello-1.ko's module hello_1; like rmmod(8),
		// take either spelling.
		req.Module = strings.ReplaceAll(st.Module(), "-", "_")
	case spec.StepRun:
		for _, a := range st.Run {
			req.Args = append(req.Args, x(a))
		}
		req.Handle = st.Background
	case spec.StepSignal:
		req.Handle, req.Signal = st.Signal, st.Send
	case spec.StepWait:
		req.Handle = st.Wait
	case spec.StepWrite:
		req.Path, req.Data = x(st.Write), []byte(x(st.Data))
	case spec.StepRead:
		req.Path = x(st.Read)
	case spec.StepSleep:
		req.TimeoutMS = st.Sleep.Std().Milliseconds()
	case spec.StepWaitLog:
		// The agent's own match ends the wait; the judge matches again
		// (and captures) on the host.
		req.Op = guest.OpSleep
		if re, err := (&spec.LogExpect{Match: st.WaitLog}).Regexp(vars); err != nil {
			expandErr = err
		} else {
			req.Until = re.String()
		}
	case spec.StepAssert:
		// Judged on the host: the request only collects the log that came
		// since the previous step, and keeps one request per step.
		req.Op, req.TimeoutMS = guest.OpSleep, 0
	}
	return req, expandErr
}
