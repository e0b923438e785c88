package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/model"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

var (
	validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	validMod  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	errnoName = regexp.MustCompile(`^E[A-Z0-9]+$`)
	sigName   = regexp.MustCompile(`^SIG[A-Z0-9]+$`)
)

// badFunc records an error at a place of the spec.
type badFunc func(p pos, format string, args ...any)

// check validates what YAML decoding cannot, and sets the defaults. Every
// error is placed at the key or list item that is wrong, and all of them
// are returned, in the order of the file.
func (s *Spec) check(checkDirs bool) error {
	var errs []*Error
	bad := func(p pos, format string, args ...any) {
		errs = append(errs, &Error{File: s.File, Line: p.line, Column: p.col, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Name == "" {
		bad(pos{line: 1}, "missing name: give the test a name (lower case, digits, - _ .)")
	} else if !validName.MatchString(s.Name) {
		bad(s.at("name"), "invalid name %q: use lower case letters, digits, '-', '_' and '.'", s.Name)
	}
	if len(s.Steps) == 0 {
		bad(s.at("steps"), "no steps: a test needs at least one step (insmod or rmmod)")
	}
	s.checkFiles(checkDirs, bad)
	s.checkRoot(checkDirs, bad)
	s.checkBoot(checkDirs, bad)
	if s.Timeout == 0 {
		s.Timeout = Duration(defaultTimeout)
	}
	captured := map[string]bool{}
	handles := map[string]bool{}
	for i := range s.Steps {
		s.checkStep(i, handles, bad)
		s.checkCaptures(i, captured, bad)
	}
	for _, e := range s.Requires.check() {
		bad(s.at(append([]string{"requires"}, e.path...)...), "%s", e.msg)
	}
	for i := range s.Allow {
		if key, err := s.Allow[i].check(); err != nil {
			bad(s.at("allow", strconv.Itoa(i), key), "%v", err)
		}
	}
	for i, t := range s.Taint {
		if len(t) != 1 || !strings.Contains(TaintLetters, t) {
			bad(s.at("taint", strconv.Itoa(i)), "taint %q: want one letter of %s", t, TaintLetters)
		}
	}
	return joinErrors(errs)
}

// checkFiles checks the module directories and the helpers.
func (s *Spec) checkFiles(checkDirs bool, bad badFunc) {
	if s.Modules == nil {
		s.Modules = []string{"."} // "modules: []" means none (a test of helpers only)
	}
	for mi, m := range s.Modules {
		at := s.at("modules", strconv.Itoa(mi))
		if filepath.IsAbs(m) {
			bad(at, "module directory %q must be relative to the spec", m)
			continue
		}
		if st, err := os.Stat(filepath.Join(s.Dir, m)); checkDirs && err != nil {
			bad(at, "module directory %q does not exist next to the spec", m)
		} else if checkDirs && !st.IsDir() {
			bad(at, "module directory %q is a file: give the directory that holds its Kbuild or Makefile", m)
		}
	}
	helperNames := map[string]bool{}
	for hi, h := range s.Helpers {
		at := s.at("helpers", strconv.Itoa(hi))
		name := strings.TrimSuffix(filepath.Base(h), ".c")
		switch {
		case filepath.IsAbs(h) || !strings.HasSuffix(h, ".c"):
			bad(at, "helper %q: give a C file relative to the spec (name.c)", h)
		case helperNames[name]:
			bad(at, "two helpers are named %s", name)
		default:
			if _, err := os.Stat(filepath.Join(s.Dir, h)); checkDirs && err != nil {
				bad(at, "helper %q does not exist next to the spec", h)
			}
		}
		helperNames[name] = true
	}
}

// checkBoot checks boot: and sets its defaults.
func (s *Spec) checkBoot(checkDirs bool, bad badFunc) {
	if kernelconfigs.IsRef(s.Boot.Config) {
		// lkmtest's own fragment: an unknown name matters only where the
		// test will run (a saved spec is judged again, never built).
		if _, _, err := kernelconfigs.Lookup(s.Boot.Config); err != nil && (checkDirs || !errors.Is(err, kernelconfigs.ErrUnknown)) {
			bad(s.at("boot", "config"), "boot.config %v", err)
		}
	} else if s.Boot.Config != "" {
		if filepath.IsAbs(s.Boot.Config) {
			bad(s.at("boot", "config"), "boot.config %q must be relative to the spec", s.Boot.Config)
		} else if _, err := os.Stat(filepath.Join(s.Dir, s.Boot.Config)); checkDirs && err != nil {
			bad(s.at("boot", "config"), "boot.config %q does not exist next to the spec", s.Boot.Config)
		}
	}
	if s.Boot.Memory == 0 {
		s.Boot.Memory = 256
	} else if s.Boot.Memory < 64 {
		bad(s.at("boot", "memory"), "boot.memory %d MiB is too small (at least 64)", s.Boot.Memory)
	}
	if s.Boot.CPUs == 0 {
		s.Boot.CPUs = 1
	} else if s.Boot.CPUs < 0 || s.Boot.CPUs > 64 {
		bad(s.at("boot", "cpus"), "boot.cpus %d is out of range (1..64)", s.Boot.CPUs)
	}
}

// checkStep checks what step i does and expects (but its ${name}
// references: checkCaptures), and sets its defaults. handles are the
// background programs of the steps before it.
func (s *Spec) checkStep(i int, handles map[string]bool, bad badFunc) {
	st := &s.Steps[i]
	at := func(path ...string) pos { return s.stepAt(i, path...) }
	kinds := st.kinds()
	switch {
	case len(kinds) > 1:
		bad(at(string(kinds[1])), "a step does one thing: it has %s", joinKinds(kinds))
	case len(kinds) == 0:
		bad(at(), "step %d does nothing: give it one of insmod, rmmod, run, signal, wait, write, read, sleep, wait_log, assert", i+1)
	case st.Module() != "" && !validMod.MatchString(st.Module()):
		bad(at(string(kinds[0])), "invalid module name %q (the .ko file name without .ko)", st.Module())
	}
	k := st.Kind()
	only := func(field string, set bool, kinds ...StepKind) {
		if set && !slices.Contains(kinds, k) {
			bad(at(field), "%s: only for %s steps", field, joinKinds(kinds))
		}
	}
	only("params", st.Params != "", StepInsmod)
	only("background", st.Background != "", StepRun)
	only("exit", st.Exit != nil, StepRun, StepWait)
	only("stdout", st.Stdout != "", StepRun, StepWait)
	only("send", st.Send != "", StepSignal)
	only("data", st.Data != "", StepWrite)
	only("content", st.Content != "", StepRead)
	if k == StepRun && len(st.Run) > 0 && st.Run[0] == "" {
		bad(at("run", "0"), "run: the program is empty")
	}
	if st.Background != "" && st.Exit != nil {
		bad(at("exit"), "a background run has no exit status yet: put exit and stdout on its wait step")
	} else if st.Background != "" && st.Stdout != "" {
		bad(at("stdout"), "a background run has no exit status yet: put exit and stdout on its wait step")
	}
	if k == StepSignal {
		if st.Send == "" {
			st.Send = "SIGTERM"
		} else if !sigName.MatchString(st.Send) {
			bad(at("send"), "send: %q is not a signal name such as SIGUSR1", st.Send)
		} else if !knownSignal(st.Send) {
			bad(at("send"), "send: %s is not a Linux signal (SIGUSR1, SIGTERM, SIGKILL...)", st.Send)
		}
	}
	for key, h := range map[string]string{"signal": st.Signal, "wait": st.Wait} {
		if h != "" && !handles[h] {
			bad(at(key), "no earlier step runs a program in the background as %q", h)
		}
	}
	if st.Background != "" {
		handles[st.Background] = true
	}
	if st.Assert != "" {
		a, err := ParseAssertion(st.Assert)
		if err != nil {
			bad(at("assert"), "%v", err)
		}
		st.Assertion = a
	}
	for key, re := range map[string]string{"stdout": st.Stdout, "content": st.Content, "wait_log": st.WaitLog} {
		if _, err := regexp.Compile(substitute(re, func(string) string { return "x" })); err != nil {
			bad(at(key), "%s: %q is not a valid regular expression: %v", key, re, err)
		}
	}
	if st.Model != nil {
		if _, ok := model.Models[st.Model.Name]; !ok {
			bad(at("model", "name"), "model %q: want one of %s", st.Model.Name, strings.Join(model.Names(), ", "))
		}
	}
	if st.Expect == "" {
		st.Expect = "ok"
	} else if msg := expectProblem(st.Expect); msg != "" {
		bad(at("expect"), "expect: %s", msg)
	}
	if st.Exit != nil && st.Expect != "ok" {
		bad(at("expect"), "give exit or expect, not both")
	}
	if st.Timeout == 0 {
		st.Timeout = Duration(30 * time.Second)
	}
}

// expectProblem says what is wrong with expect: value e ("" when nothing).
func expectProblem(e string) string {
	switch {
	case e == "ok":
		return ""
	case !errnoName.MatchString(e) && !sigName.MatchString(e):
		return fmt.Sprintf("%q is neither ok, an errno name such as ENOMEM, nor a signal such as SIGSEGV", e)
	case errnoName.MatchString(e) && !knownErrno(e):
		if to, ok := errnoAlias(e); ok {
			return fmt.Sprintf("%s is %s on Linux, and the guest reports it so: write expect: %s", e, to, to)
		}
		return fmt.Sprintf("%s is not a Linux errno name (ENOMEM, EINVAL, ENOENT, EAGAIN...)", e)
	case sigName.MatchString(e) && !knownSignal(e):
		return fmt.Sprintf("%s is not a Linux signal (SIGSEGV, SIGKILL, SIGTERM...)", e)
	}
	return ""
}

// captureNames adds the names of the named groups of pattern re to
// captured (an invalid pattern was reported by checkStep).
func captureNames(re string, captured map[string]bool) {
	if re == "" {
		return
	}
	c, err := regexp.Compile(substitute(re, func(string) string { return "x" }))
	if err != nil {
		return
	}
	for _, name := range c.SubexpNames() {
		if name != "" {
			captured[name] = true
		}
	}
}

// checkCaptures checks the ${name} references of step i (see substitute)
// and its log patterns, and adds what they capture to captured: in what
// the step sends to the guest and in stdout and content, a value an
// earlier step captured; in log patterns, also one an earlier pattern of
// this step captured.
func (s *Spec) checkCaptures(i int, captured map[string]bool, bad badFunc) {
	st := &s.Steps[i]
	type field struct {
		path  []string
		name  string
		value string
	}
	fields := []field{
		{[]string{"params"}, "params", st.Params}, {[]string{"write"}, "write", st.Write},
		{[]string{"data"}, "data", st.Data}, {[]string{"read"}, "read", st.Read},
	}
	for ai, a := range st.Run {
		// A string is one shell command (/bin/sh -c STRING): the key is
		// the place.
		fields = append(fields, field{[]string{"run", strconv.Itoa(ai)}, "run", a})
	}
	fields = append(fields, field{[]string{"stdout"}, "stdout", st.Stdout}, field{[]string{"content"}, "content", st.Content},
		field{[]string{"wait_log"}, "wait_log", st.WaitLog}, field{[]string{"assert"}, "assert", st.Assert})
	for _, f := range fields {
		if err := checkRefs(f.name, f.value, captured); err != nil {
			bad(s.stepAt(i, f.path...), "%v", err)
		}
	}
	// What stdout, content and wait_log capture is for the patterns
	// after them (log patterns are matched after wait_log's line) and
	// later steps.
	for _, re := range []string{st.WaitLog, st.Stdout, st.Content} {
		captureNames(re, captured)
	}
	for _, list := range []struct {
		field   string
		exps    []LogExpect
		capture bool
	}{{"log", st.Log, true}, {"log_any", st.LogAny, true}, {"log_absent", st.LogAbsent, false}} {
		for k := range list.exps {
			if key, err := list.exps[k].check(list.field, captured, list.capture); err != nil {
				bad(s.stepAt(i, list.field, strconv.Itoa(k), key), "%v", err)
			}
		}
	}
}
