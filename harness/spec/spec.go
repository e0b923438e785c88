package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lkmtest/lkmtest/harness/model"
	kernelconfigs "github.com/lkmtest/lkmtest/kernel-configs"
)

// defaultTimeout bounds a whole test when its spec gives no timeout.
const defaultTimeout = 120 * time.Second

// FileName is the name of a spec file in a module directory.
const FileName = "test.yaml"

// Spec is one test.
type Spec struct {
	// Name identifies the test ("hello"); unique in a suite.
	Name string `yaml:"name"`
	// Description says what the test shows.
	Description string `yaml:"description"`
	// Chapter is the book chapter, when the test reproduces the book.
	Chapter int `yaml:"chapter"`
	// Tags select groups of tests.
	Tags []string `yaml:"tags"`
	// Modules are directories (relative to the spec) to build with M=;
	// default: the spec's own directory; [] for none.
	Modules []string `yaml:"modules"`
	// Root is the tree the modules are built in a mirror of (relative to
	// the spec): their builds see every file under it as it is in place.
	// Default: the smallest directory holding the spec, the modules and
	// every path their sources and Makefiles reach with "../".
	Root string `yaml:"root"`
	// Helpers are C programs (files relative to the spec) built statically
	// for the guest's arch and installed as /lkmtest/helpers/<name without
	// .c>, on the PATH of run steps.
	Helpers []string `yaml:"helpers"`
	// Timeout bounds the whole test, boot included (default 120s).
	Timeout Duration `yaml:"timeout"`
	// Boot configures the VM.
	Boot Boot `yaml:"boot"`
	// Requires lists what the test needs; unmet, the test is SKIP.
	Requires Requires `yaml:"requires"`
	// Allow lists the crash reports the test triggers on purpose.
	Allow []Allow `yaml:"allow"`
	// Taint lists taint flags (letters, e.g. W) a step may add besides O
	// and E (and those implied by allowed reports: W, D, L).
	Taint []string `yaml:"taint"`
	// Steps run in order in the guest.
	Steps []Step `yaml:"steps"`

	// SpecLess marks the smoke test of a module directory without a
	// test.yaml (see SpecLess): its steps are written once the modules
	// are built.
	SpecLess bool `yaml:"-"`
	// File is the spec's path; Dir its directory.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`

	// root is the decoded document, for the lines of keys.
	root *yaml.Node
}

// line returns the line of the value at path (keys of nested mappings,
// then optionally the index of a sequence item, as "0"); the line of the
// deepest key found, or 1, when the path does not exist.
func (s *Spec) line(path ...string) int {
	n, line := s.root, 1
	for _, key := range path {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		n = next
	}
	return line
}

// Boot holds the VM settings of a test.
type Boot struct {
	// Memory is the guest memory in MiB (default 256).
	Memory int `yaml:"memory"`
	// CPUs is the number of virtual CPUs (default 1).
	CPUs int `yaml:"cpus"`
	// Cmdline holds extra kernel command-line arguments.
	Cmdline []string `yaml:"cmdline"`
	// Config is a kernel config fragment (a file relative to the spec, or
	// "lkmtest:NAME" for lkmtest's kernel-configs/NAME.config) merged into
	// the kernel the test runs on: tests with one get a kernel of their own
	// (built once, cached), e.g. a debug kernel.
	Config string `yaml:"config"`
	// Fresh asks for a VM of the test's own. Every test gets one (restored
	// from the target's snapshot, as good as a fresh boot), so it is
	// accepted for clarity and changes nothing.
	Fresh bool `yaml:"fresh"`
}

// StepKind is what a step does.
type StepKind string

// The step kinds.
const (
	StepInsmod StepKind = "insmod"
	StepRmmod  StepKind = "rmmod"
	StepRun    StepKind = "run"
	StepSignal StepKind = "signal"
	StepWait   StepKind = "wait"
	StepWrite  StepKind = "write"
	StepRead   StepKind = "read"
	StepSleep  StepKind = "sleep"
)

// Model is a step's model: its name and integer parameters, written in
// YAML as {name: kmalloc-wastage, stepsz: 204800}.
type Model struct {
	Name   string
	Params map[string]int
}

// UnmarshalYAML reads the name and the integer parameters.
func (m *Model) UnmarshalYAML(n *yaml.Node) error {
	var raw map[string]yaml.Node
	if err := n.Decode(&raw); err != nil {
		return err
	}
	m.Params = map[string]int{}
	for k, v := range raw {
		if k == "name" {
			m.Name = v.Value
			continue
		}
		i, err := strconv.Atoi(v.Value)
		if err != nil {
			return &posError{v.Line, fmt.Sprintf("model parameter %s: %q is not an integer", k, v.Value)}
		}
		m.Params[k] = i
	}
	if m.Name == "" {
		return &posError{n.Line, "model: give its name (name: kmalloc-wastage)"}
	}
	return nil
}

// Command is a run step's program: in YAML a list (the program and its
// arguments, no shell) or a string (run by /bin/sh -c).
type Command []string

// UnmarshalYAML accepts a string or a list of strings.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = Command{"/bin/sh", "-c", n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*c = list
	return nil
}

// Step is one action in the guest and what must follow from it.
type Step struct {
	// Insmod names a module to load (its .ko basename without .ko).
	Insmod string `yaml:"insmod"`
	// Rmmod names a module to unload.
	Rmmod string `yaml:"rmmod"`
	// Params are the module parameters of insmod, passed literally once
	// ${name} references are replaced (substitute).
	Params string `yaml:"params"`
	// Run is a program to run in the guest; with Background it keeps
	// running under that handle while the next steps run.
	Run        Command `yaml:"run"`
	Background string  `yaml:"background"`
	// Exit is the expected exit status of run or wait (default 0).
	Exit *int `yaml:"exit"`
	// Stdout is a regular expression the program's output must match.
	Stdout string `yaml:"stdout"`
	// Signal names a background program to send Send (default SIGTERM) to.
	Signal string `yaml:"signal"`
	Send   string `yaml:"send"`
	// Wait names a background program to wait for.
	Wait string `yaml:"wait"`
	// Write is a file to write Data to.
	Write string `yaml:"write"`
	Data  string `yaml:"data"`
	// Read is a file whose content must match the regular expression
	// Content (multi-line mode).
	Read    string `yaml:"read"`
	Content string `yaml:"content"`
	// Sleep waits, collecting the kernel log.
	Sleep Duration `yaml:"sleep"`
	// Expect is the expected result: "ok" (default), an errno name, or the
	// signal that ended the step's task or program ("SIGKILL").
	Expect string `yaml:"expect"`
	// Timeout bounds the step (default 30s).
	Timeout Duration `yaml:"timeout"`
	// Log lists expectations that must match lines of the kernel log
	// written during the step, in this order.
	Log []LogExpect `yaml:"log"`
	// LogAny lists expectations that must match, in any order.
	LogAny []LogExpect `yaml:"log_any"`
	// LogAbsent lists patterns that must not match any line of the step.
	LogAbsent []LogExpect `yaml:"log_absent"`
	// Model names a model of the step's output (harness/model) with its
	// parameters: every line it computes must appear, in order, and no
	// other line may look like one of them.
	Model *Model `yaml:"model"`
	// KTAP says the step's kernel log holds KTAP (KUnit tests built as
	// modules, kselftest-style modules): every test case is judged and
	// reported on its own, and a failed or missing case fails the step.
	KTAP bool `yaml:"ktap"`

	// Line is the step's line in the spec file.
	Line int `yaml:"-"`
}

// kinds lists the step kinds a step sets, in a fixed order.
func (s *Step) kinds() []StepKind {
	var out []StepKind
	for _, k := range []struct {
		kind StepKind
		set  bool
	}{
		{StepInsmod, s.Insmod != ""}, {StepRmmod, s.Rmmod != ""}, {StepRun, len(s.Run) > 0},
		{StepSignal, s.Signal != ""}, {StepWait, s.Wait != ""}, {StepWrite, s.Write != ""},
		{StepRead, s.Read != ""}, {StepSleep, s.Sleep > 0},
	} {
		if k.set {
			out = append(out, k.kind)
		}
	}
	return out
}

// Kind is the step's kind.
func (s *Step) Kind() StepKind {
	if k := s.kinds(); len(k) > 0 {
		return k[0]
	}
	return ""
}

// Module is the module the step acts on ("" for other kinds).
func (s *Step) Module() string {
	if s.Insmod != "" {
		return s.Insmod
	}
	return s.Rmmod
}

// String describes the step for people ("insmod helloworld_lkm").
func (s *Step) String() string {
	switch s.Kind() {
	case StepInsmod, StepRmmod:
		out := string(s.Kind()) + " " + s.Module()
		if s.Params != "" {
			out += " " + s.Params
		}
		return out
	case StepRun:
		out := "run " + strings.Join(s.Run, " ")
		if len(s.Run) == 3 && s.Run[0] == "/bin/sh" && s.Run[1] == "-c" {
			out = "run " + s.Run[2]
		}
		if s.Background != "" {
			out += " &" + s.Background
		}
		return out
	case StepSignal:
		return "signal " + s.Signal + " " + s.Send
	case StepWait:
		return "wait " + s.Wait
	case StepWrite:
		return fmt.Sprintf("write %q > %s", s.Data, s.Write)
	case StepRead:
		return "read " + s.Read
	case StepSleep:
		return "sleep " + s.Sleep.Std().String()
	}
	return "empty step"
}

// UnmarshalYAML records the step's line; node.Decode does not inherit the
// decoder's KnownFields, so unknown keys are checked here.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	if err := knownKeys(n, reflect.TypeOf(plain{})); err != nil {
		return err
	}
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	s.Line = n.Line
	return nil
}

// keyTypes are the spec's mappings by the type name the YAML decoder puts
// in its "field X not found in type T" message.
var keyTypes = map[string]reflect.Type{
	"spec.Spec": reflectTypeOf[Spec](), "spec.Boot": reflectTypeOf[Boot](), "spec.Requires": reflectTypeOf[Requires](),
	"spec.Allow": reflectTypeOf[Allow](), "spec.plain": reflectTypeOf[LogExpect](),
}

var fieldNotFound = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

// withValidKeys turns the decoder's "field X not found in type spec.Boot"
// into "field X not found (valid: cmdline, config, ...)": the keys the
// user may write there, and no Go type name.
func withValidKeys(msg string) string {
	m := fieldNotFound.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	t, ok := keyTypes[m[2]]
	if !ok {
		return "field " + m[1] + " not found"
	}
	return fmt.Sprintf("field %s not found (valid: %s)", m[1], strings.Join(yamlKeys(t), ", "))
}

// yamlKeys are the yaml tags of struct type t, sorted.
func yamlKeys(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// knownKeys fails on a mapping key that is not a yaml tag of t.
func knownKeys(n *yaml.Node, t reflect.Type) error {
	if n.Kind != yaml.MappingNode {
		return nil // Decode reports the type error
	}
	names := yamlKeys(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(names, k.Value) {
			return &posError{k.Line, fmt.Sprintf("field %s not found (valid: %s)", k.Value, strings.Join(names, ", "))}
		}
	}
	return nil
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses "30s", "2m" or a plain number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &posError{n.Line, "a duration must be a scalar like 30s"}
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return &posError{n.Line, fmt.Sprintf("invalid duration %q (want e.g. 30s or 2m)", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Error is a problem in a spec file, with its position.
type Error struct {
	// File is the spec's path.
	File string
	// Line is the line (0 when unknown).
	Line int
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// fromYAML turns yaml.v3 errors ("yaml: line 3: ...", TypeError lists) into
// positioned Errors.
func fromYAML(file string, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		var pe *posError
		if errors.As(err, &pe) && len(msgs) == 1 {
			errs = append(errs, &Error{File: file, Line: pe.line, Msg: pe.msg})
			continue
		}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			errs = append(errs, &Error{File: file, Line: line, Msg: withValidKeys(sm[2])})
			continue
		}
		errs = append(errs, &Error{File: file, Line: 1, Msg: m})
	}
	return errors.Join(errs...)
}

// Parse decodes and checks a spec. file is used in errors and to resolve
// module directories.
func Parse(file string, data []byte) (*Spec, error) { return parse(file, data, true) }

// ParseSaved decodes and checks the copy of a spec kept in a run
// directory; its module directories need not exist.
func ParseSaved(file string, data []byte) (*Spec, error) { return parse(file, data, false) }

func parse(file string, data []byte, checkDirs bool) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Line: 1, Msg: "empty spec: it needs at least a name and steps"}
		}
		return nil, fromYAML(file, err)
	}
	s.File = file
	s.Dir = filepath.Dir(file)
	// A second, lenient decode keeps every key's line for the errors
	// check finds (the strict one above already rejected unknown keys).
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil && len(root.Content) > 0 {
		s.root = root.Content[0]
	}
	if err := s.check(checkDirs); err != nil {
		return nil, err
	}
	return &s, nil
}

// Load reads and parses a spec file.
func Load(file string) (*Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(file, data)
}

var (
	validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	validMod  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	errnoName = regexp.MustCompile(`^E[A-Z0-9]+$`)
	sigName   = regexp.MustCompile(`^SIG[A-Z0-9]+$`)
)

// check validates what YAML decoding cannot.
func (s *Spec) check(checkDirs bool) error {
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, &Error{File: s.File, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Name == "" {
		bad(1, "missing name: give the test a name (lower case, digits, - _ .)")
	} else if !validName.MatchString(s.Name) {
		bad(s.line("name"), "invalid name %q: use lower case letters, digits, '-', '_' and '.'", s.Name)
	}
	if len(s.Steps) == 0 {
		bad(s.line("steps"), "no steps: a test needs at least one step (insmod or rmmod)")
	}
	if s.Modules == nil {
		s.Modules = []string{"."} // "modules: []" means none (a test of helpers only)
	}
	for mi, m := range s.Modules {
		if filepath.IsAbs(m) {
			bad(s.line("modules", strconv.Itoa(mi)), "module directory %q must be relative to the spec", m)
			continue
		}
		if st, err := os.Stat(filepath.Join(s.Dir, m)); checkDirs && err != nil {
			bad(s.line("modules", strconv.Itoa(mi)), "module directory %q does not exist next to the spec", m)
		} else if checkDirs && !st.IsDir() {
			bad(s.line("modules", strconv.Itoa(mi)), "module directory %q is a file: give the directory that holds its Kbuild or Makefile", m)
		}
	}
	s.checkRoot(checkDirs, bad)
	helperNames := map[string]bool{}
	for hi, h := range s.Helpers {
		name := strings.TrimSuffix(filepath.Base(h), ".c")
		switch {
		case filepath.IsAbs(h) || !strings.HasSuffix(h, ".c"):
			bad(s.line("helpers", strconv.Itoa(hi)), "helper %q: give a C file relative to the spec (name.c)", h)
		case helperNames[name]:
			bad(s.line("helpers", strconv.Itoa(hi)), "two helpers are named %s", name)
		default:
			if _, err := os.Stat(filepath.Join(s.Dir, h)); checkDirs && err != nil {
				bad(s.line("helpers", strconv.Itoa(hi)), "helper %q does not exist next to the spec", h)
			}
		}
		helperNames[name] = true
	}
	if kernelconfigs.IsRef(s.Boot.Config) {
		// lkmtest's own fragment: an unknown name matters only where the
		// test will run (a saved spec is judged again, never built).
		if _, _, err := kernelconfigs.Lookup(s.Boot.Config); err != nil && (checkDirs || !errors.Is(err, kernelconfigs.ErrUnknown)) {
			bad(s.line("boot", "config"), "boot.config %v", err)
		}
	} else if s.Boot.Config != "" {
		if filepath.IsAbs(s.Boot.Config) {
			bad(s.line("boot", "config"), "boot.config %q must be relative to the spec", s.Boot.Config)
		} else if _, err := os.Stat(filepath.Join(s.Dir, s.Boot.Config)); checkDirs && err != nil {
			bad(s.line("boot", "config"), "boot.config %q does not exist next to the spec", s.Boot.Config)
		}
	}
	if s.Boot.Memory == 0 {
		s.Boot.Memory = 256
	} else if s.Boot.Memory < 64 {
		bad(s.line("boot", "memory"), "boot.memory %d MiB is too small (at least 64)", s.Boot.Memory)
	}
	if s.Boot.CPUs == 0 {
		s.Boot.CPUs = 1
	} else if s.Boot.CPUs < 0 || s.Boot.CPUs > 64 {
		bad(s.line("boot", "cpus"), "boot.cpus %d is out of range (1..64)", s.Boot.CPUs)
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(defaultTimeout)
	}
	captured := map[string]bool{}
	handles := map[string]bool{}
	for i := range s.Steps {
		st := &s.Steps[i]
		kinds := st.kinds()
		switch {
		case len(kinds) > 1:
			bad(st.Line, "a step does one thing: it has %s", joinKinds(kinds))
		case len(kinds) == 0:
			bad(st.Line, "step %d does nothing: give it one of insmod, rmmod, run, signal, wait, write, read, sleep", i+1)
		case st.Module() != "" && !validMod.MatchString(st.Module()):
			bad(st.Line, "invalid module name %q (the .ko file name without .ko)", st.Module())
		}
		k := st.Kind()
		only := func(field string, set bool, kinds ...StepKind) {
			if set && !slices.Contains(kinds, k) {
				bad(st.Line, "%s: only for %s steps", field, joinKinds(kinds))
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
			bad(st.Line, "run: the program is empty")
		}
		if st.Background != "" && (st.Exit != nil || st.Stdout != "") {
			bad(st.Line, "a background run has no exit status yet: put exit and stdout on its wait step")
		}
		if k == StepSignal {
			if st.Send == "" {
				st.Send = "SIGTERM"
			} else if !sigName.MatchString(st.Send) {
				bad(st.Line, "send: %q is not a signal name such as SIGUSR1", st.Send)
			} else if !knownSignal(st.Send) {
				bad(st.Line, "send: %s is not a Linux signal (SIGUSR1, SIGTERM, SIGKILL...)", st.Send)
			}
		}
		for _, h := range []string{st.Signal, st.Wait} {
			if h != "" && !handles[h] {
				bad(st.Line, "no earlier step runs a program in the background as %q", h)
			}
		}
		if st.Background != "" {
			handles[st.Background] = true
		}
		for field, re := range map[string]string{"stdout": st.Stdout, "content": st.Content} {
			if _, err := regexp.Compile(substitute(re, func(string) string { return "x" })); err != nil {
				bad(st.Line, "%s: %q is not a valid regular expression: %v", field, re, err)
			}
		}
		if st.Model != nil {
			if _, ok := model.Models[st.Model.Name]; !ok {
				bad(st.Line, "model %q: want one of %s", st.Model.Name, strings.Join(model.Names(), ", "))
			}
		}
		if st.Expect == "" {
			st.Expect = "ok"
		} else if st.Expect != "ok" && !errnoName.MatchString(st.Expect) && !sigName.MatchString(st.Expect) {
			bad(st.Line, "expect: %q is neither ok, an errno name such as ENOMEM, nor a signal such as SIGSEGV", st.Expect)
		} else if errnoName.MatchString(st.Expect) && !knownErrno(st.Expect) {
			if to, ok := errnoAlias(st.Expect); ok {
				bad(st.Line, "expect: %s is %s on Linux, and the guest reports it so: write expect: %s", st.Expect, to, to)
			} else {
				bad(st.Line, "expect: %s is not a Linux errno name (ENOMEM, EINVAL, ENOENT, EAGAIN...)", st.Expect)
			}
		} else if sigName.MatchString(st.Expect) && !knownSignal(st.Expect) {
			bad(st.Line, "expect: %s is not a Linux signal (SIGSEGV, SIGKILL, SIGTERM...)", st.Expect)
		}
		if st.Exit != nil && st.Expect != "ok" {
			bad(st.Line, "give exit or expect, not both")
		}
		if st.Timeout == 0 {
			st.Timeout = Duration(30 * time.Second)
		}
		// ${name} (see substitute): in what the step sends to the guest and
		// in stdout and content, a value an earlier step captured; in log
		// patterns, also one an earlier pattern of this step captured.
		type field struct{ name, value string }
		fields := []field{{"params", st.Params}, {"write", st.Write}, {"data", st.Data}, {"read", st.Read}}
		for _, a := range st.Run {
			fields = append(fields, field{"run", a})
		}
		fields = append(fields, field{"stdout", st.Stdout}, field{"content", st.Content})
		for _, f := range fields {
			if err := checkRefs(f.name, f.value, captured); err != nil {
				bad(st.Line, "%v", err)
			}
		}
		for _, list := range []struct {
			field   string
			exps    []LogExpect
			capture bool
		}{{"log", st.Log, true}, {"log_any", st.LogAny, true}, {"log_absent", st.LogAbsent, false}} {
			for k := range list.exps {
				if err := list.exps[k].check(list.field, captured, list.capture); err != nil {
					bad(st.Line, "%v", err)
				}
			}
		}
	}
	for _, m := range s.Requires.check() {
		// "requires.kernel: ..." names its key.
		key, _, _ := strings.Cut(strings.TrimPrefix(m, "requires."), " ")
		bad(s.line("requires", strings.Trim(key, ":")), "%s", m)
	}
	for i := range s.Allow {
		if err := s.Allow[i].check(); err != nil {
			bad(s.line("allow", strconv.Itoa(i)), "%v", err)
		}
	}
	for i, t := range s.Taint {
		if len(t) != 1 || !strings.Contains(TaintLetters, t) {
			bad(s.line("taint", strconv.Itoa(i)), "taint %q: want one letter of %s", t, TaintLetters)
		}
	}
	return errors.Join(errs...)
}

func joinKinds(ks []StepKind) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return strings.Join(out, " and ")
}

// Find loads every spec under root (recursively), sorted by name, and fails
// on duplicate names.
func Find(root string) ([]*Spec, error) {
	var specs []*Spec
	var errs []error
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if d.Name() == FileName && !d.IsDir() {
			s, err := Load(p)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			specs = append(specs, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find specs in %s: %w", root, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for i := 1; i < len(specs); i++ {
		if specs[i].Name == specs[i-1].Name {
			return nil, &Error{File: specs[i].File, Msg: fmt.Sprintf("duplicate test name %q (also in %s)", specs[i].Name, specs[i-1].File)}
		}
	}
	return specs, nil
}
