package kernelconfigs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lkmtest/lkmtest/harness/kver"
)

// Flavour is a bug-finding kernel: a fragment of this package plus what
// lkmtest checks on it. Flavours combine: --flavour kasan,kmemleak builds
// one kernel with both fragments (a variant named "kasan+kmemleak").
type Flavour struct {
	// Name names the flavour and its fragment (Name.config).
	Name string
	// Finds says what it reports, for people (lkmtest kernel fragments).
	Finds string
	// LeakScan: the guest's kmemleak is scanned after each rmmod and at a
	// test's end, and a leak of a test's module fails the test.
	LeakScan bool
	// Kernels are the versions that have it ("" bounds: all); on others
	// a test of the flavour is SKIP with Why.
	Kernels kver.Range
	Why     string
}

// Flavours are the known flavours, sorted by name.
var Flavours = []Flavour{
	{Name: "debug", Finds: "lockdep: lock order inversions, recursive locking, bad unlocks"},
	{Name: "kasan", Finds: "KASAN: use-after-free and out-of-bounds reads and writes, with the access and the line"},
	{Name: "kfence", Finds: "KFENCE: sampled use-after-free, out-of-bounds and invalid frees, with the object's allocation and free stacks",
		Kernels: kver.Range{Since: "5.12"}, Why: "KFENCE was merged in 5.12"},
	{Name: "kmemleak", Finds: "kmemleak: memory a module allocated and lost (outcome LEAK)", LeakScan: true},
	{Name: "ubsan", Finds: "UBSAN: array indexes out of bounds, shifts out of range",
		Kernels: kver.Range{Since: "5.7"}, Why: "CONFIG_UBSAN_BOUNDS appeared in 5.7"},
}

// FlavourNames lists the flavours' names.
func FlavourNames() []string {
	var out []string
	for _, f := range Flavours {
		out = append(out, f.Name)
	}
	return out
}

// FindFlavour returns the flavour called name.
func FindFlavour(name string) (Flavour, bool) {
	for _, f := range Flavours {
		if f.Name == name {
			return f, true
		}
	}
	return Flavour{}, false
}

// ParseFlavours reads a comma-separated list of flavours ("kasan,kmemleak"),
// sorted and without repeats; an unknown name is an error listing the
// known ones.
func ParseFlavours(list string) ([]Flavour, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Flavour
	for _, n := range names {
		f, ok := FindFlavour(n)
		if !ok {
			return nil, fmt.Errorf("unknown flavour %q (known: %s)", n, strings.Join(FlavourNames(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

// VariantOf names the kernel variant of flavours: "kasan+kmemleak".
func VariantOf(fs []Flavour) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	return strings.Join(names, "+")
}

// FlavoursOf are the flavours a variant name ("kasan+kmemleak", "debug")
// is made of; parts that name no flavour (a user's fragment) are left out.
func FlavoursOf(variant string) []Flavour {
	var out []Flavour
	for _, n := range strings.Split(variant, "+") {
		if f, ok := FindFlavour(n); ok {
			out = append(out, f)
		}
	}
	return out
}

// Unsupported says why kernel version cannot have one of fs ("" when it
// can, or when the version is not known).
func Unsupported(fs []Flavour, version string) string {
	for _, f := range fs {
		if version != "" && !f.Kernels.Contains(version) {
			return fmt.Sprintf("flavour %s: not on kernel %s (%s)", f.Name, version, f.Why)
		}
	}
	return ""
}
