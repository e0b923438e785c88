package kver

import "testing"

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"5.4", "5.10", -1}, // numbers, not strings: "5.4" > "5.10" as text
		{"5.10", "5.12", -1},
		{"5.4.302", "5.10", -1},
		{"6.1.192", "6.1", 1},
		{"6.1", "6.1.192", -1},
		{"6.12", "6.12.0", 0},
		{"6.12.0-rc1", "6.12", 0},
		{"6.12-rc7", "6.12", 0},
		{"6.12-rc1", "6.11.11", 1},
		{"6.1.0-13-amd64", "6.1", 0},
		{"6.12.57+deb13", "6.12.57", 0},
		{"6.12.57+deb13", "6.12.58", -1},
		{"10.0", "9.9", 1},
		{"6.5", "6.5", 0},
		{"", "0", 0},
	} {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Compare(tc.b, tc.a); got != -tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestInSeries(t *testing.T) {
	for _, tc := range []struct {
		version, series string
		want            bool
	}{
		{"6.1.192", "6.1", true},
		{"6.1", "6.1", true},
		{"6.10.3", "6.1", false},
		{"6.12.57", "6.1", false},
		{"6.1", "6.1.192", false},
		{"5.4.302", "6.1", false},
	} {
		if got := InSeries(tc.version, tc.series); got != tc.want {
			t.Errorf("InSeries(%q, %q) = %v, want %v", tc.version, tc.series, got, tc.want)
		}
	}
}

func TestRangeContains(t *testing.T) {
	for _, tc := range []struct {
		r       Range
		version string
		want    bool
	}{
		{Range{Since: "5.5", Before: "6.1"}, "5.5", true},
		{Range{Since: "5.5", Before: "6.1"}, "5.15.147", true},
		{Range{Since: "5.5", Before: "6.1"}, "6.0.19", true},
		{Range{Since: "5.5", Before: "6.1"}, "6.1", false},
		{Range{Since: "5.5", Before: "6.1"}, "6.1-rc1", false},
		{Range{Since: "5.5", Before: "6.1"}, "6.1.192", false},
		{Range{Since: "5.5", Before: "6.1"}, "5.4.302", false},
		{Range{Before: "5.12"}, "5.4.302", true},
		{Range{Before: "5.12"}, "5.11.22", true},
		{Range{Before: "5.12"}, "5.12", false},
		{Range{Since: "6.5"}, "6.4.16", false},
		{Range{Since: "6.5"}, "6.12.57", true},
		{Range{}, "5.4", true},
	} {
		if got := tc.r.Contains(tc.version); got != tc.want {
			t.Errorf("%v.Contains(%q) = %v, want %v", tc.r, tc.version, got, tc.want)
		}
	}
}

func TestRangeEmpty(t *testing.T) {
	for _, tc := range []struct {
		r    Range
		want bool
	}{
		{Range{}, false},
		{Range{Since: "5.5"}, false},
		{Range{Before: "5.5"}, false},
		{Range{Since: "5.5", Before: "6.1"}, false},
		{Range{Since: "6.1", Before: "6.1"}, true},
		{Range{Since: "5.10", Before: "5.4"}, true},
	} {
		if got := tc.r.Empty(); got != tc.want {
			t.Errorf("%v.Empty() = %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestRangeString(t *testing.T) {
	for r, want := range map[Range]string{
		{Since: "5.5", Before: "6.1"}: "[5.5, 6.1)",
		{Before: "5.12"}:              "[0, 5.12)",
		{Since: "6.5"}:                "[6.5, ∞)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
	}
}
