package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/harness/spec"
)

// SelectSpecs resolves command-line arguments to specs: a directory or file
// path with a test.yaml is loaded directly; any other argument names a test
// in suite. No arguments select the whole suite.
func SelectSpecs(suite string, args []string) ([]*spec.Spec, error) {
	var out []*spec.Spec
	var names []string
	var errs []error // every bad argument is reported, not only the first
	for _, a := range args {
		if st, err := os.Stat(a); err == nil {
			s, err := selectPath(a, st.IsDir())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, s)
			continue
		}
		names = append(names, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(args) > 0 && len(names) == 0 {
		return out, nil
	}
	all, err := spec.Find(suite)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("no tests (%s files) under %s", spec.FileName, suite)
		}
		return all, nil
	}
	byName := map[string]*spec.Spec{}
	var known []string
	for _, s := range all {
		byName[s.Name] = s
		known = append(known, s.Name)
	}
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("no test named %q in %s (known: %s), and no such directory", n, suite, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// selectPath loads the spec an argument names by path: a test.yaml, a
// directory holding one, or a module directory without one (a smoke test).
func selectPath(a string, dir bool) (*spec.Spec, error) {
	p := a
	if dir {
		p = filepath.Join(a, spec.FileName)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			s, err := spec.SpecLess(a)
			if err != nil {
				if found, _ := spec.Find(a); len(found) > 0 {
					return nil, fmt.Errorf("%w (it holds %d tests below it: lkmtest run --suite %s runs them)", err, len(found), a)
				}
				return nil, err
			}
			return s, nil
		}
	} else if !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml") {
		return nil, fmt.Errorf("%s is a file: give a module directory (with a Kbuild or Makefile), a %s or a test name", a, spec.FileName)
	}
	return spec.Load(p)
}

// ParseShard parses --shard "I/N" (1 <= I <= N).
func ParseShard(s string) (i, n int, err error) {
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || fmt.Sprintf("%d/%d", i, n) != s || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N, e.g. 2/3", s)
	}
	return i, n, nil
}

// Shard returns shard i of n (1-based) of specs: sorted by name, every
// n-th from the i-th. Every spec is in exactly one shard, shards differ in
// size by at most one, and a suite always splits the same way whatever
// order its specs were found in. The shard keeps the specs' given order.
func Shard(specs []*spec.Spec, i, n int) []*spec.Spec {
	names := make([]string, len(specs))
	for k, s := range specs {
		names[k] = s.Name
	}
	sort.Strings(names)
	mine := map[string]bool{}
	for k := i - 1; k < len(names); k += n {
		mine[names[k]] = true
	}
	var out []*spec.Spec
	for _, s := range specs {
		if mine[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
