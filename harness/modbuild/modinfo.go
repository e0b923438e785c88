package modbuild

import (
	"debug/elf"
	"fmt"
	"sort"
	"strings"
)

// ModInfo reads the .modinfo section of a .ko file: key=value strings
// (license, depends, vermagic, parm...), a key may repeat.
func ModInfo(ko string) (map[string][]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, fmt.Errorf("modinfo %s: %w", ko, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("modinfo %s: no .modinfo section (not a kernel module?)", ko)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("modinfo %s: %w", ko, err)
	}
	out := map[string][]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			out[k] = append(out[k], v)
		}
	}
	return out, nil
}

// ModuleName is the kernel's name of a module file name: '-' becomes '_'.
func ModuleName(file string) string { return strings.ReplaceAll(file, "-", "_") }

// LoadOrder sorts module names (the .ko file names without .ko) so that
// every module comes after the modules it depends on (modinfo "depends"),
// names in order otherwise; deps maps a name to its dependencies' kernel
// names. Dependencies outside the set are ignored (built into the kernel
// or missing: insmod will say which). A cycle keeps the remaining names in
// order.
func LoadOrder(names []string, deps map[string][]string) []string {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	byKernel := map[string]string{}
	for _, n := range sorted {
		byKernel[ModuleName(n)] = n
	}
	done := map[string]bool{}
	visiting := map[string]bool{}
	var out []string
	var visit func(n string)
	visit = func(n string) {
		if done[n] || visiting[n] {
			return
		}
		visiting[n] = true
		for _, d := range deps[n] {
			if dn, ok := byKernel[ModuleName(d)]; ok {
				visit(dn)
			}
		}
		visiting[n] = false
		done[n] = true
		out = append(out, n)
	}
	for _, n := range sorted {
		visit(n)
	}
	return out
}

// Depends lists the modules a .ko file depends on (modinfo "depends").
func Depends(ko string) ([]string, error) {
	info, err := ModInfo(ko)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range info["depends"] {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				out = append(out, d)
			}
		}
	}
	return out, nil
}
