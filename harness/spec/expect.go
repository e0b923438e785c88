package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/kver"
)

// LogExpect is one kernel-log expectation of a step. In YAML it is a
// regular expression, or a mapping:
//
//	{match: REGEX, level: warning, count: 2}
//
// Named groups, (?P<pid>[0-9]+), of log and log_any patterns capture
// values that later patterns use as ${pid} (matched literally) and later
// steps' params, run, write, data and read use as they are (substitute
// has the rule).
type LogExpect struct {
	// Match is the regular expression, before ${name} substitution.
	Match string `yaml:"match"`
	// Level, when set, is the record's log level name (emerg, alert, crit,
	// err, warning, notice, info, debug).
	Level string `yaml:"level"`
	// Count, when > 0, is the exact number of matching lines in the step.
	Count int `yaml:"count"`

	// LevelNum is Level as a number (-1 when any).
	LevelNum int `yaml:"-"`
}

// logFields is LogExpect without its UnmarshalYAML (the decoder names it
// in type errors: see goTypeWords).
type logFields LogExpect

// UnmarshalYAML accepts a plain string or the mapping form (whose unknown
// keys were refused before decoding: unknownKeys).
func (e *LogExpect) UnmarshalYAML(n *yaml.Node) error {
	e.LevelNum = -1
	if n.Kind == yaml.ScalarNode {
		e.Match = n.Value
		return nil
	}
	if err := n.Decode((*logFields)(e)); err != nil {
		return err
	}
	e.LevelNum = -1
	return nil
}

// levels are the printk level names, by number.
var levels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// LevelName names a printk level number.
func LevelName(n int) string {
	if n >= 0 && n < len(levels) {
		return levels[n]
	}
	return strconv.Itoa(n)
}

// refName matches a ${name} reference at the start of a string.
var refName = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// substitute is the one rule for ${name} in a spec (README, "Writing a
// test"): every ${name} of s is replaced by ref(name), and $${ stands for
// a literal ${. A ${ that does not close a name (letters, digits, _, not
// starting with a digit) with } is literal as well: "${t##*/}" in a shell
// command stays as it is.
func substitute(s string, ref func(name string) string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if m := refName.FindStringSubmatch(s[i:]); m != nil {
			b.WriteString(ref(m[1]))
			i += len(m[0])
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// Refs lists the names s refers to as ${name}, in order.
func Refs(s string) []string {
	var names []string
	substitute(s, func(name string) string {
		names = append(names, name)
		return ""
	})
	return names
}

// Regexp compiles the expectation with ${name} replaced by the quoted
// captured values; an unknown name is an error.
func (e *LogExpect) Regexp(vars map[string]string) (*regexp.Regexp, error) {
	var missing string
	src := substitute(e.Match, func(name string) string {
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = name
		}
		return regexp.QuoteMeta(v)
	})
	if missing != "" {
		return nil, fmt.Errorf("${%s} is used before a pattern captured it", missing)
	}
	return regexp.Compile(src)
}

// Expand replaces ${name} in s by the captured value (as it is, not
// quoted) and $${ by ${; an unknown name is an error.
func Expand(s string, vars map[string]string) (string, error) {
	var missing string
	out := substitute(s, func(name string) string {
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("${%s} is used before a pattern captured it", missing)
	}
	return out, nil
}

// capturedSoFar lists the names captured so far, for messages.
func capturedSoFar(captured map[string]bool) string {
	if len(captured) == 0 {
		return "nothing is captured before it"
	}
	names := make([]string, 0, len(captured))
	for n := range captured {
		names = append(names, "${"+n+"}")
	}
	sort.Strings(names)
	return "captured before it: " + strings.Join(names, ", ")
}

// checkRefs fails on a ${name} in the value of a step's field (params,
// run, write, data, read, stdout, content) that no log or log_any pattern
// of an earlier step captures: these values are used before the step's
// own kernel log is matched.
func checkRefs(field, s string, captured map[string]bool) error {
	for _, name := range Refs(s) {
		if !captured[name] {
			return fmt.Errorf("%s %q uses ${%s}, which no pattern of an earlier step captures (with (?P<%s>...) in log, log_any, wait_log, stdout or content); %s", field, s, name, name, capturedSoFar(captured))
		}
	}
	return nil
}

// check validates the expectation of the list field (log, log_any,
// log_absent). Its ${name} references must be captured by an earlier
// pattern: of an earlier step, or before it in this step's log and
// log_any lists, which are matched in that order. With capture set, the
// names it captures are added to captured (log_absent patterns capture
// nothing: they never match in a step that passes). An error comes with
// the key of the mapping form that is wrong (match, level, count).
func (e *LogExpect) check(field string, captured map[string]bool, capture bool) (string, error) {
	if e.Match == "" {
		return "match", fmt.Errorf("a log expectation needs a pattern (match:)")
	}
	for _, name := range Refs(e.Match) {
		if !captured[name] {
			return "match", fmt.Errorf("%s pattern %q uses ${%s}, which no earlier pattern captures (with (?P<%s>...) in log, log_any, wait_log, stdout or content); %s", field, e.Match, name, name, capturedSoFar(captured))
		}
	}
	re, err := regexp.Compile(substitute(e.Match, func(string) string { return "x" }))
	if err != nil {
		return "match", fmt.Errorf("%s pattern %q is not a valid regular expression: %v", field, e.Match, err)
	}
	for _, name := range re.SubexpNames() {
		if name != "" && capture {
			captured[name] = true
		}
	}
	e.LevelNum = -1
	if e.Level != "" {
		l := strings.ToLower(e.Level)
		switch l {
		case "warn":
			l = "warning"
		case "error":
			l = "err"
		case "emergency":
			l = "emerg"
		}
		for i, name := range levels {
			if name == l {
				e.LevelNum = i
			}
		}
		if e.LevelNum < 0 {
			return "level", fmt.Errorf("log level %q: want one of %s", e.Level, strings.Join(levels, ", "))
		}
	}
	if e.Count < 0 {
		return "count", fmt.Errorf("log count %d: must be 0 (any) or more", e.Count)
	}
	return "", nil
}

// Requires lists what a test needs; an unmet requirement makes it SKIP.
type Requires struct {
	// Config lists kernel options: "CONFIG_X" (=y or =m), "CONFIG_X=value"
	// or "CONFIG_X=n" (must be unset).
	Config []string `yaml:"config"`
	// Arch lists the architectures the test runs on (default: all).
	Arch []string `yaml:"arch"`
	// Kernel is a version range: ">=5.12", "<6.13", ">=5.4 <6.0".
	Kernel string `yaml:"kernel"`
	// CPUs and Memory are what the host must have (CPUs, MiB).
	CPUs   int `yaml:"cpus"`
	Memory int `yaml:"memory"`
}

var (
	configReq  = regexp.MustCompile(`^CONFIG_[A-Za-z0-9_]+(=.+)?$`)
	versionReq = regexp.MustCompile(`^(>=|<=|>|<|=)?([0-9]+(?:\.[0-9]+){0,2})$`)
)

// reqError is a problem with requires:, at the key (or item) of path
// below it.
type reqError struct {
	path []string
	msg  string
}

func (r *Requires) check() []reqError {
	var bad []reqError
	for i, c := range r.Config {
		if !configReq.MatchString(c) {
			bad = append(bad, reqError{[]string{"config", strconv.Itoa(i)}, fmt.Sprintf("requires.config %q: want CONFIG_NAME or CONFIG_NAME=value", c)})
		}
	}
	for i, a := range r.Arch {
		if a != "x86_64" && a != "arm64" {
			bad = append(bad, reqError{[]string{"arch", strconv.Itoa(i)}, fmt.Sprintf("requires.arch %q: want x86_64 or arm64", a)})
		}
	}
	for _, f := range strings.Fields(r.Kernel) {
		if !versionReq.MatchString(f) {
			bad = append(bad, reqError{[]string{"kernel"}, fmt.Sprintf("requires.kernel %q: want a range such as \">=5.12 <6.13\"", r.Kernel)})
			break
		}
	}
	if r.CPUs < 0 {
		bad = append(bad, reqError{[]string{"cpus"}, fmt.Sprintf("requires.cpus %d cannot be negative", r.CPUs)})
	}
	if r.Memory < 0 {
		bad = append(bad, reqError{[]string{"memory"}, fmt.Sprintf("requires.memory %d cannot be negative", r.Memory)})
	}
	return bad
}

// Host is what requirements are checked against.
type Host struct {
	// Arch and Kernel are the target's ("x86_64", "6.1.192").
	Arch, Kernel string
	// Config returns a kernel option's value in the built .config ("n"
	// when unset).
	Config func(name string) string
	// CPUs and MemoryMiB are the host's.
	CPUs, MemoryMiB int
}

// Unmet returns why the test cannot run on h ("" when it can).
func (r *Requires) Unmet(h Host) string {
	if len(r.Arch) > 0 {
		ok := false
		for _, a := range r.Arch {
			ok = ok || a == h.Arch
		}
		if !ok {
			return fmt.Sprintf("runs only on %s", strings.Join(r.Arch, ", "))
		}
	}
	for _, f := range strings.Fields(r.Kernel) {
		m := versionReq.FindStringSubmatch(f)
		c := kver.Compare(h.Kernel, m[2])
		ok := map[string]bool{">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "=": c == 0, "": c == 0}[m[1]]
		if m[1] == "=" || m[1] == "" {
			// "=6.1" means the 6.1 series.
			ok = kver.InSeries(h.Kernel, m[2])
		}
		if !ok {
			return fmt.Sprintf("needs kernel %s (this is %s)", r.Kernel, h.Kernel)
		}
	}
	for _, c := range r.Config {
		name, want, hasValue := strings.Cut(c, "=")
		got := "n"
		if h.Config != nil {
			got = h.Config(name)
		}
		switch {
		case !hasValue && got != "y" && got != "m":
			return fmt.Sprintf("needs %s (not set in this kernel: add it with --kconfig or boot.config)", name)
		case hasValue && got != want:
			return fmt.Sprintf("needs %s=%s (this kernel has %s)", name, want, got)
		}
	}
	if r.CPUs > 0 && h.CPUs < r.CPUs {
		return fmt.Sprintf("needs %d host CPUs (this host has %d)", r.CPUs, h.CPUs)
	}
	if r.Memory > 0 && h.MemoryMiB > 0 && h.MemoryMiB < r.Memory {
		return fmt.Sprintf("needs %d MiB of host memory (this host has %d)", r.Memory, h.MemoryMiB)
	}
	return ""
}

// Allow is a crash report a test triggers on purpose.
type Allow struct {
	// Kind is a crash catalogue kind (WARNING, BUG, LOCKDEP...); "" any.
	Kind string `yaml:"kind"`
	// Match, when set, must match the report's title or header line.
	Match string `yaml:"match"`

	re *regexp.Regexp
}

// Allows reports whether a report is allowed by a.
func (a *Allow) Allows(r klog.Report) bool {
	if a.Kind != "" && !strings.EqualFold(a.Kind, string(r.Kind)) {
		return false
	}
	return a.re == nil || a.re.MatchString(r.Title) || a.re.MatchString(r.Header)
}

// check validates a and compiles its pattern; an error comes with the key
// that is wrong ("" for the item itself).
func (a *Allow) check() (string, error) {
	if a.Kind == "" && a.Match == "" {
		return "", fmt.Errorf("allow: give a kind, a match or both")
	}
	if a.Kind != "" && !klog.KnownKind(a.Kind) {
		return "kind", fmt.Errorf("allow.kind %q: want one of %s", a.Kind, strings.Join(klog.KindNames(), ", "))
	}
	if a.Match != "" {
		re, err := regexp.Compile(a.Match)
		if err != nil {
			return "match", fmt.Errorf("allow.match %q is not a valid regular expression: %v", a.Match, err)
		}
		a.re = re
	}
	return "", nil
}

// TaintLetters are the kernel's taint flags by bit (Documentation/admin-guide/tainted-kernels.rst).
const TaintLetters = "PFSRMBUDAWCIOELKXTN"

// TaintNames spells out taint flags for messages.
var TaintNames = map[byte]string{
	'P': "proprietary module", 'F': "module force-loaded", 'S': "unsafe SMP", 'R': "module force-unloaded",
	'M': "machine check", 'B': "bad page", 'U': "user request", 'D': "kernel died (oops or BUG)",
	'A': "ACPI table overridden", 'W': "kernel warning", 'C': "staging driver", 'I': "firmware workaround",
	'O': "out-of-tree module", 'E': "unsigned module", 'L': "soft lockup", 'K': "live patch",
	'X': "auxiliary", 'T': "struct randomization", 'N': "in-kernel test",
}

// Missing is the first ${name} of what the step sends to the guest or
// checks on the host (params, run, write, data, read, wait_log, assert)
// that vars lacks, "" when none: a step after a failed one may lack a
// value that step was to capture.
func (s *Step) Missing(vars map[string]string) string {
	fields := append([]string{s.Params, s.Write, s.Data, s.Read, s.WaitLog, s.Assert}, s.Run...)
	for _, f := range fields {
		for _, name := range Refs(f) {
			if _, ok := vars[name]; !ok {
				return name
			}
		}
	}
	return ""
}
