package harness

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// TestStepRequest checks the agent request of each step kind: ${name} is
// expanded, by one rule, in params, run arguments, write path and data and
// read path ($${ stays a literal ${), and rmmod names the module as the
// kernel does (hello-1.ko is module hello_1).
func TestStepRequest(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, spec.FileName)
	err := os.WriteFile(p, []byte(`name: requests
steps:
  - insmod: leak_addr
    log: ['^addr=(?P<addr>[0-9a-f]+) pid=(?P<pid>[0-9]+)$']
  - insmod: hello-1
    params: 'func_ptr=0x${addr} name=$${addr} "quoted ${pid}"'
  - rmmod: hello-1
    log: ['^hello-1: bye$']
  - rmmod: plain_name
  - run: [kill, '-USR1', '${pid}']
  - write: '/proc/${pid}/comm'
    data: 'x${addr}'
  - read: '/proc/${pid}/status'
  - insmod: noparams
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"addr": "ffffffffc0001000", "pid": "77"}
	timeout := 30 * time.Second
	want := []guest.Request{
		{Op: guest.OpInsmod, Path: "/lkm/leak_addr.ko"},
		{Op: guest.OpInsmod, Path: "/lkm/hello-1.ko", Params: `func_ptr=0xffffffffc0001000 name=${addr} "quoted 77"`},
		{Op: guest.OpRmmod, Module: "hello_1"},
		{Op: guest.OpRmmod, Module: "plain_name"},
		{Op: guest.OpRun, Args: []string{"kill", "-USR1", "77"}},
		{Op: guest.OpWrite, Path: "/proc/77/comm", Data: []byte("xffffffffc0001000")},
		{Op: guest.OpRead, Path: "/proc/77/status"},
		{Op: guest.OpInsmod, Path: "/lkm/noparams.ko"},
	}
	for i := range s.Steps {
		req, err := stepRequest(&s.Steps[i], timeout, vars)
		if err != nil {
			t.Errorf("step %d: %v", i+1, err)
			continue
		}
		want[i].TimeoutMS = timeout.Milliseconds()
		if !reflect.DeepEqual(req, want[i]) {
			t.Errorf("step %d (%s):\n got %+v\nwant %+v", i+1, s.Steps[i].String(), req, want[i])
		}
	}
	// wait_log sleeps until its pattern, captured values quoted; assert
	// only collects the log (it is judged on the host).
	for _, c := range []struct {
		step string
		want guest.Request
	}{
		{"wait_log: '^pid ${pid} at ${addr}.$'", guest.Request{Op: guest.OpSleep, TimeoutMS: 30000, Until: `^pid 77 at ffffffffc0001000.$`}},
		{"assert: '${pid} > 1'", guest.Request{Op: guest.OpSleep}},
	} {
		s, err := spec.Parse(p, []byte("name: x\nsteps:\n  - run: 'echo 77 ffffffffc0001000'\n    stdout: '(?P<pid>[0-9]+) (?P<addr>[0-9a-f]+)'\n  - "+c.step+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		req, err := stepRequest(&s.Steps[1], timeout, vars)
		if err != nil || !reflect.DeepEqual(req, c.want) {
			t.Errorf("%s: %+v, %v; want %+v", c.step, req, err, c.want)
		}
	}
	// The step keeps the name as written, for people and for its patterns.
	if got := s.Steps[2].String(); got != "rmmod hello-1" {
		t.Errorf("rmmod step = %q", got)
	}
	// A value that was not captured at run time (the capturing step
	// failed) is an error, never sent literally.
	if _, err := stepRequest(&s.Steps[1], timeout, map[string]string{"pid": "1"}); err == nil || !strings.Contains(err.Error(), "${addr}") {
		t.Errorf("params with an uncaptured ${addr}: %v", err)
	}
}
