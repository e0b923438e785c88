package kernelconfigs

import (
	"slices"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
)

func TestNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %q, not sorted", names)
	}
	for _, want := range []string{"debug", "kunit"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %q, lacks %q", names, want)
		}
	}
	for _, n := range names {
		if slices.Contains(Always, n+".config") {
			t.Errorf("Names() = %q names %s.config, which every kernel gets", names, n)
		}
		d := Description(n)
		if d == "" || strings.Contains(d, "\n") || strings.HasPrefix(d, "#") {
			t.Errorf("Description(%q) = %q, want one line of text", n, d)
		}
	}
	if d, want := Description("kunit"), "KUnit test modules: the framework built in, suites run when a module loads."; d != want {
		t.Errorf("Description(kunit) = %q, want %q", d, want)
	}
	if d, want := Description("debug"), "The debug kernel of the book's locking chapters: lockdep (lock dependency validation)."; d != want {
		t.Errorf("Description(debug) = %q, want %q", d, want)
	}
	// Always covers every arch's fragment, and each of them exists.
	for _, a := range arch.All() {
		if f := a.Spec().ConfigFragment; !slices.Contains(Always, f) {
			t.Errorf("%s's fragment %s is not in Always", a, f)
		}
	}
	for _, f := range Always {
		if _, err := Read(f); err != nil {
			t.Error(err)
		}
	}
}

func TestLookup(t *testing.T) {
	if name, file, err := Lookup("lkmtest:debug"); err != nil || name != "debug" || file != "debug.config" {
		t.Errorf("Lookup(lkmtest:debug) = %q, %q, %v", name, file, err)
	}
	for ref, want := range map[string]string{
		"lkmtest:nope":         `"lkmtest:nope": no such fragment in lkmtest's kernel-configs; known fragments: ` + list(Names()),
		"lkmtest:base":         `kernel-configs/base.config is applied to every kernel already and cannot be named`,
		"lkmtest:arm64":        `kernel-configs/arm64.config is applied to every kernel already`,
		"lkmtest:x86_64":       `kernel-configs/x86_64.config is applied to every kernel already`,
		"lkmtest:":             `name a fragment of lkmtest's kernel-configs without .config, one of: lkmtest:debug`,
		"lkmtest:debug.config": `without .config`,
		"lkmtest:../debug":     `without .config`,
		"debug.config":         `does not start with "lkmtest:"`,
	} {
		if _, _, err := Lookup(ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%q) = %v, want an error containing %q", ref, err, want)
		}
	}
	if !IsRef("lkmtest:kunit") || IsRef("kunit.config") || IsRef("./lkmtest:kunit") {
		t.Error("IsRef")
	}
}
