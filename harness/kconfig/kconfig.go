package kconfig

import (
	"bufio"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Option is one requested option.
type Option struct {
	// Name is the symbol with its CONFIG_ prefix.
	Name string
	// Value is "y", "m", a number or a quoted string; "n" means not set.
	Value string
	// Source is "file:line" of the fragment line that set it.
	Source string
}

// Config is an ordered set of options.
type Config struct {
	opts  map[string]Option
	order []string
}

var (
	setLine   = regexp.MustCompile(`^(CONFIG_[A-Za-z0-9_]+)=(.*)$`)
	unsetLine = regexp.MustCompile(`^# (CONFIG_[A-Za-z0-9_]+) is not set$`)
)

// Parse reads a fragment; name is used in positions and errors.
func Parse(name, text string) (*Config, error) {
	c := &Config{opts: map[string]Option{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		pos := fmt.Sprintf("%s:%d", name, n)
		if m := unsetLine.FindStringSubmatch(line); m != nil {
			c.set(Option{Name: m[1], Value: "n", Source: pos})
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := setLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s: not a config line: %q (want CONFIG_NAME=value or '# CONFIG_NAME is not set')", pos, line)
		}
		if m[2] == "" {
			return nil, fmt.Errorf("%s: %s has no value", pos, m[1])
		}
		c.set(Option{Name: m[1], Value: m[2], Source: pos})
	}
	return c, sc.Err()
}

func (c *Config) set(o Option) {
	if _, ok := c.opts[o.Name]; !ok {
		c.order = append(c.order, o.Name)
	}
	c.opts[o.Name] = o
}

// Merge applies configs in order; a later value overrides an earlier one.
func Merge(cs ...*Config) *Config {
	out := &Config{opts: map[string]Option{}}
	for _, c := range cs {
		for _, name := range c.order {
			out.set(c.opts[name])
		}
	}
	return out
}

// Without returns a copy of c without the named options.
func (c *Config) Without(names ...string) *Config {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	out := &Config{opts: map[string]Option{}}
	for _, n := range c.order {
		if !drop[n] {
			out.set(c.opts[n])
		}
	}
	return out
}

// Renamed returns a copy of c with options renamed (old name → new name);
// the renamed option keeps its value and source position.
func (c *Config) Renamed(names map[string]string) *Config {
	out := &Config{opts: map[string]Option{}}
	for _, n := range c.order {
		o := c.opts[n]
		if to, ok := names[n]; ok {
			o.Name = to
		}
		out.set(o)
	}
	return out
}

// Get returns an option's value ("n" when absent or not set).
func (c *Config) Get(name string) string {
	if o, ok := c.opts[name]; ok {
		return o.Value
	}
	return "n"
}

// Options lists the options in the order they were first set.
func (c *Config) Options() []Option {
	out := make([]Option, 0, len(c.order))
	for _, n := range c.order {
		out = append(out, c.opts[n])
	}
	return out
}

// String renders the config as a fragment, sorted by name, so equal
// configs render equally (it is what cache keys hash).
func (c *Config) String() string {
	names := append([]string(nil), c.order...)
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if v := c.opts[n].Value; v == "n" {
			fmt.Fprintf(&b, "# %s is not set\n", n)
		} else {
			fmt.Fprintf(&b, "%s=%s\n", n, v)
		}
	}
	return b.String()
}

// Count returns how many options have the value v ("y", "m").
func (c *Config) Count(v string) int {
	n := 0
	for _, o := range c.opts {
		if o.Value == v {
			n++
		}
	}
	return n
}

// Mismatch is a requested option that the final .config does not have.
type Mismatch struct {
	// Option is what was requested.
	Option Option
	// Got is the final value ("n" when unset or absent).
	Got string
}

func (m Mismatch) String() string {
	want := m.Option.Value
	if want == "n" {
		want = "not set"
	}
	got := m.Got
	if got == "n" {
		got = "not set"
	}
	return fmt.Sprintf("%s: %s requested %s, got %s", m.Option.Source, m.Option.Name, want, got)
}

// Validate lists the requested options whose value in final differs.
func Validate(requested, final *Config) []Mismatch {
	var out []Mismatch
	for _, o := range requested.Options() {
		if got := final.Get(o.Name); got != o.Value {
			out = append(out, Mismatch{Option: o, Got: got})
		}
	}
	return out
}

// ValidationError is returned by a configure stage when options did not
// survive olddefconfig.
type ValidationError struct {
	// Mismatches lists every option that did not survive.
	Mismatches []Mismatch
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requested kernel config option(s) did not survive olddefconfig (a dependency is missing or the symbol does not exist in this kernel):", len(e.Mismatches))
	for _, m := range e.Mismatches {
		b.WriteString("\n  " + m.String())
	}
	return b.String()
}
