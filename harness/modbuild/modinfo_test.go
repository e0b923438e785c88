package modbuild

import (
	"slices"
	"testing"
)

func TestLoadOrder(t *testing.T) {
	deps := map[string][]string{
		"user-lkm": {"core_lkm"},
		"core-lkm": {"base"},
		"zeta":     {"alpha", "not_in_set"},
	}
	got := LoadOrder([]string{"zeta", "user-lkm", "core-lkm", "base", "alpha"}, deps)
	want := []string{"alpha", "base", "core-lkm", "user-lkm", "zeta"}
	if !slices.Equal(got, want) {
		t.Fatalf("LoadOrder = %v, want %v", got, want)
	}
	// A cycle does not hang and keeps every name once.
	got = LoadOrder([]string{"a", "b"}, map[string][]string{"a": {"b"}, "b": {"a"}})
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("LoadOrder of a cycle = %v", got)
	}
}

func TestModInfoRefusesNonModule(t *testing.T) {
	if _, err := ModInfo("/bin/sh"); err == nil {
		t.Fatal("ModInfo of /bin/sh: no error")
	}
}
