package kconfig

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	c, err := Parse("a.config", "# comment\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\nCONFIG_N=42\n")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_S": `"x y"`, "CONFIG_N": "42", "CONFIG_Z": "n"} {
		if got := c.Get(name); got != want {
			t.Errorf("Get(%s) = %q, want %q", name, got, want)
		}
	}
	if src := c.Options()[1].Source; src != "a.config:4" {
		t.Errorf("source of CONFIG_B = %q, want a.config:4", src)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"CONFIG_A\n", "A=y\n", "CONFIG_A=\n", "CONFIG_A y\n"} {
		_, err := Parse("bad.config", in)
		if err == nil || !strings.HasPrefix(err.Error(), "bad.config:1: ") {
			t.Errorf("Parse(%q) error = %v, want bad.config:1: ...", in, err)
		}
	}
}

func TestMergeLaterWins(t *testing.T) {
	a, _ := Parse("a", "CONFIG_X=y\nCONFIG_Y=y\n")
	b, _ := Parse("b", "# CONFIG_X is not set\nCONFIG_Z=m\n")
	m := Merge(a, b)
	if got := m.Get("CONFIG_X"); got != "n" {
		t.Errorf("merged CONFIG_X = %q, want n", got)
	}
	if got, want := m.String(), "# CONFIG_X is not set\nCONFIG_Y=y\nCONFIG_Z=m\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := m.Options()[0].Source; got != "b:1" {
		t.Errorf("source of CONFIG_X = %q, want b:1", got)
	}
	if m.Count("y") != 1 || m.Count("m") != 1 {
		t.Errorf("Count: y=%d m=%d, want 1 and 1", m.Count("y"), m.Count("m"))
	}
}

func TestValidate(t *testing.T) {
	req, _ := Parse("frag", "CONFIG_A=y\nCONFIG_GONE=y\n# CONFIG_C is not set\nCONFIG_D=m\n")
	final, _ := Parse(".config", "CONFIG_A=y\nCONFIG_C=y\nCONFIG_D=y\n")
	ms := Validate(req, final)
	var got []string
	for _, m := range ms {
		got = append(got, m.String())
	}
	want := []string{
		"frag:2: CONFIG_GONE requested y, got not set",
		"frag:3: CONFIG_C requested not set, got y",
		"frag:4: CONFIG_D requested m, got y",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Validate =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	err := (&ValidationError{Mismatches: ms}).Error()
	if !strings.Contains(err, "3 requested kernel config option(s) did not survive") || !strings.Contains(err, "CONFIG_GONE") {
		t.Errorf("ValidationError = %q", err)
	}
}

func TestWithoutRenamed(t *testing.T) {
	c, err := Parse("f", "CONFIG_A=y\nCONFIG_B=y\nCONFIG_NEW=y\n")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Without("CONFIG_B").Renamed(map[string]string{"CONFIG_NEW": "CONFIG_OLD"})
	if want := "CONFIG_A=y\nCONFIG_OLD=y\n"; got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
	if got.Options()[1].Source != "f:3" {
		t.Errorf("renamed option lost its source: %+v", got.Options()[1])
	}
	if c.Get("CONFIG_B") != "y" {
		t.Error("Without changed its receiver")
	}
}
