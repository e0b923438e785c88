package kver

import (
	"fmt"
	"strconv"
	"strings"
)

// Compare orders kernel versions a and b: -1, 0 or 1 (see the package doc
// for how components and suffixes count).
func Compare(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := component(as, i), component(bs, i)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// component is the number that starts parts[i] (0 when there is none).
func component(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	p := parts[i]
	if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
		p = p[:j]
	}
	n, _ := strconv.Atoi(p)
	return n
}

// InSeries reports whether version belongs to series: "6.1.192" and "6.1"
// are in "6.1", "6.10.3" is not.
func InSeries(version, series string) bool {
	return strings.HasPrefix(version+".", series+".")
}

// Range is the kernel versions from Since up to, not including, Before;
// an empty bound is unbounded.
type Range struct {
	Since, Before string
}

// Contains reports whether version is in r.
func (r Range) Contains(version string) bool {
	return (r.Since == "" || Compare(version, r.Since) >= 0) &&
		(r.Before == "" || Compare(version, r.Before) < 0)
}

// Empty reports whether no version is in r (Since is not before Before).
func (r Range) Empty() bool {
	return r.Since != "" && r.Before != "" && Compare(r.Since, r.Before) >= 0
}

// String is the range in interval notation ("[5.5, 6.1)", "[5.12, ∞)").
func (r Range) String() string {
	since, before := r.Since, r.Before
	if since == "" {
		since = "0"
	}
	if before == "" {
		before = "∞"
	}
	return fmt.Sprintf("[%s, %s)", since, before)
}
