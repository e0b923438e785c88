package kernelconfigs

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

//go:embed *.config
var files embed.FS

// Prefix names an embedded fragment in place of a file: "lkmtest:debug" is
// debug.config.
const Prefix = "lkmtest:"

// Always are the fragments every kernel gets (base, then the arch's own: the
// ConfigFragment of each arch.Spec); they cannot be named with Prefix.
var Always = []string{"base.config", "x86_64.config", "arm64.config"}

// Read returns the fragment called name ("base.config").
func Read(name string) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("kernel-configs: no fragment %q: %w", name, err)
	}
	return string(b), nil
}

// Names returns the fragments that can be named with Prefix ("debug",
// "kunit"), sorted: every embedded fragment but those in Always.
func Names() []string {
	matches, _ := files.ReadDir(".")
	var out []string
	for _, e := range matches {
		n := e.Name()
		if strings.HasSuffix(n, ".config") && !slices.Contains(Always, n) {
			out = append(out, strings.TrimSuffix(n, ".config"))
		}
	}
	slices.Sort(out)
	return out
}

// Description is the first sentence of the comment a fragment starts with,
// on one line ("" when it starts with none).
func Description(name string) string {
	text, err := Read(name + ".config")
	if err != nil {
		return ""
	}
	var words []string
	for _, line := range strings.Split(text, "\n") {
		c, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok || strings.HasPrefix(strings.TrimSpace(c), "CONFIG_") {
			break // the end of the leading comment, or a "# CONFIG_X is not set"
		}
		words = append(words, strings.Fields(c)...)
		if s := strings.Join(words, " "); strings.HasSuffix(s, ".") {
			break
		} else if i := strings.Index(s, ". "); i >= 0 {
			return s[:i+1]
		}
	}
	return strings.Join(words, " ")
}

// ErrUnknown is wrapped by Lookup's error for a name no fragment has.
var ErrUnknown = errors.New("no such fragment in lkmtest's kernel-configs")

// IsRef reports whether ref names an embedded fragment ("lkmtest:debug")
// rather than a file.
func IsRef(ref string) bool { return strings.HasPrefix(ref, Prefix) }

// Lookup resolves a reference "lkmtest:NAME" to the name of its fragment
// ("debug") and its file in this package ("debug.config"). The fragments in
// Always and unknown names are errors that say which names are known.
func Lookup(ref string) (name, file string, err error) {
	name, ok := strings.CutPrefix(ref, Prefix)
	if !ok {
		return "", "", fmt.Errorf("%q does not start with %q", ref, Prefix)
	}
	known := Names()
	file = name + ".config"
	switch {
	case name == "" || name != path.Base(name) || strings.HasSuffix(name, ".config"):
		return "", "", fmt.Errorf("%q: name a fragment of lkmtest's kernel-configs without .config, one of: %s", ref, list(known))
	case slices.Contains(Always, file):
		return "", "", fmt.Errorf("%q: kernel-configs/%s is applied to every kernel already and cannot be named; known fragments: %s", ref, file, list(known))
	case !slices.Contains(known, name):
		return "", "", fmt.Errorf("%q: %w; known fragments: %s", ref, ErrUnknown, list(known))
	}
	return name, file, nil
}

// list is "lkmtest:debug, lkmtest:kunit".
func list(names []string) string {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = Prefix + n
	}
	return strings.Join(refs, ", ")
}
