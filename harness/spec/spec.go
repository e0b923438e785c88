package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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
	// StepWaitLog waits until a kernel log line matches its pattern.
	StepWaitLog StepKind = "wait_log"
	// StepAssert checks captured values on the host (no guest action).
	StepAssert StepKind = "assert"
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
			return &posError{nodePos(&v), fmt.Sprintf("model parameter %s: %q is not an integer", k, v.Value)}
		}
		m.Params[k] = i
	}
	if m.Name == "" {
		return &posError{nodePos(n), "model: give its name (name: kmalloc-wastage)"}
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
	// WaitLog waits, collecting the kernel log, until a line matches this
	// pattern (${name} allowed, named groups capture), at most Timeout;
	// the step fails when none did.
	WaitLog string `yaml:"wait_log"`
	// Assert is a condition over captured values (see Assertion), checked
	// on the host; Assertion is its parsed form.
	Assert    string     `yaml:"assert"`
	Assertion *Assertion `yaml:"-"`
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
		{StepWaitLog, s.WaitLog != ""}, {StepAssert, s.Assert != ""},
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
	case StepWaitLog:
		return "wait_log " + s.WaitLog
	case StepAssert:
		return "assert " + s.Assert
	}
	return "empty step"
}

// stepFields is Step without its UnmarshalYAML (the decoder names it in
// type errors: see goTypeWords).
type stepFields Step

// UnmarshalYAML records the step's line. Unknown keys were refused before
// decoding, at their own lines (unknownKeys).
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode((*stepFields)(s)); err != nil {
		return err
	}
	s.Line = n.Line
	return nil
}

// Parse decodes and checks a spec. file is used in errors and to resolve
// module directories.
func Parse(file string, data []byte) (*Spec, error) { return parse(file, data, true) }

// ParseSaved decodes and checks the copy of a spec kept in a run
// directory; its module directories need not exist.
func ParseSaved(file string, data []byte) (*Spec, error) { return parse(file, data, false) }

func parse(file string, data []byte, checkDirs bool) (*Spec, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, joinErrors(fromYAML(file, err))
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: file, Line: 1, Msg: "empty spec: it needs at least a name and steps"}
	}
	// Decoding ignores unknown keys (a node's Decode cannot refuse them
	// below a type's UnmarshalYAML): they are found on the tree, each at
	// its own place, with the decoder's type errors.
	doc := root.Content[0]
	var errs []*Error
	for _, e := range unknownKeys(doc, reflectTypeOf[Spec](), 0) {
		errs = append(errs, &Error{File: file, Line: e.pos.line, Column: e.pos.col, Msg: e.msg})
	}
	var s Spec
	if err := doc.Decode(&s); err != nil {
		errs = append(errs, fromYAML(file, err)...)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	s.File, s.Dir, s.root = file, filepath.Dir(file), doc
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
