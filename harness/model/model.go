package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/quirk"
)

// Env is what a model depends on.
type Env struct {
	// Arch is "x86_64" or "arm64"; Kernel the version ("6.1.192").
	Arch, Kernel string
}

// Model computes the lines a step must log, in order.
type Model func(env Env, params map[string]int) ([]string, error)

// Models are the known models by name.
var Models = map[string]Model{
	"kmalloc-wastage": KmallocWastage,
	"kmalloc-max":     KmallocMax,
}

// Names lists the models, sorted.
func Names() []string {
	var out []string
	for n := range Models {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// pageSize is the page size of lkmtest's kernels (4 KiB on both arches).
const pageSize = 4096

// kmallocCaches are the SLUB kmalloc cache sizes up to
// KMALLOC_MAX_CACHE_SIZE (two pages) on env. A minimum kmalloc alignment
// from the quirk table (arm64 before 6.5: 128 bytes) removes the caches it
// does not divide: the smaller ones and the 96- and 192-byte caches.
func kmallocCaches(env Env) []int {
	align := max(quirk.For(arch.Arch(env.Arch), env.Kernel).KmallocMinAlign, 8)
	var caches []int
	for _, c := range []int{8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192} {
		if c%align == 0 {
			caches = append(caches, c)
		}
	}
	return caches
}

// kmallocMax is KMALLOC_MAX_SIZE: 2^(MAX_ORDER-1+PAGE_SHIFT) with the old
// exclusive MAX_ORDER = 11, 2^(MAX_PAGE_ORDER+PAGE_SHIFT) with the 6.4+
// inclusive one = 10: 4 MiB either way with 4 KiB pages.
func kmallocMax(Env) int { return pageSize << 10 }

// Ksize is what ksize() returns for kmalloc(n) on env (SLUB, no KFENCE):
// the smallest kmalloc cache that fits, else whole pages from the page
// allocator (PAGE_SIZE << get_order(n)); 0 when kmalloc(n) fails.
func Ksize(env Env, n int) int {
	if n > kmallocMax(env) {
		return 0
	}
	for _, c := range kmallocCaches(env) {
		if n <= c {
			return c
		}
	}
	size := pageSize
	for size < n {
		size <<= 1
	}
	return size
}

// KmallocWastage models the book's slab4_actualsize (chapter 8): sizes from
// 100 growing by stepsz until kmalloc fails; a row per success
// "kmalloc(%7zu) : %7zu : %7zu : %3zu%%" (requested, ksize, waste, waste
// percent, integer division), after the header, then the failure line.
func KmallocWastage(env Env, params map[string]int) ([]string, error) {
	step, ok := params["stepsz"]
	if !ok || step <= 0 {
		return nil, fmt.Errorf("model kmalloc-wastage needs stepsz > 0")
	}
	lines := []string{"kmalloc(      n) :  Actual : Wastage : Waste %"}
	n := 100
	for ; ; n += step {
		k := Ksize(env, n)
		if k == 0 {
			break
		}
		lines = append(lines, fmt.Sprintf("kmalloc(%7d) : %7d : %7d : %3d%%", n, k, k-n, (k-n)*100/n))
	}
	return append(lines, fmt.Sprintf("kmalloc fail, size2alloc=%d", n)), nil
}

// Check compares the step's kernel log lines with a model's lines: each
// model line must appear, in order, and no other line may look like one of
// its rows (same text before the first "(" or ","). It returns why not.
func Check(want, got []string) string {
	prefixes := map[string]bool{}
	for _, w := range want {
		prefixes[rowPrefix(w)] = true
	}
	var rows []string
	for _, g := range got {
		if prefixes[rowPrefix(g)] {
			rows = append(rows, g)
		}
	}
	for i, w := range want {
		if i >= len(rows) {
			return fmt.Sprintf("model line %d of %d missing: want %q (the log has %d such lines)", i+1, len(want), w, len(rows))
		}
		if rows[i] != w {
			return fmt.Sprintf("line %d differs from the model: got %q, want %q", i+1, rows[i], w)
		}
	}
	if len(rows) > len(want) {
		return fmt.Sprintf("%d lines beyond the model's %d, first %q", len(rows)-len(want), len(want), rows[len(want)])
	}
	return ""
}

func rowPrefix(s string) string {
	if i := strings.IndexAny(s, "(,"); i >= 0 {
		return s[:i]
	}
	return s
}

// KmallocMax models the book's slab3_maxsize (chapter 8): sizes 0, stepsz,
// 2·stepsz… until kmalloc fails. kmalloc(0) returns ZERO_SIZE_PTR (16);
// every size up to KMALLOC_MAX_SIZE succeeds, the first one above fails.
func KmallocMax(env Env, params map[string]int) ([]string, error) {
	step, ok := params["stepsz"]
	if !ok || step <= 0 {
		return nil, fmt.Errorf("model kmalloc-max needs stepsz > 0")
	}
	lines := []string{fmt.Sprintf("kmalloc(%7d) = 0x%016x (ZERO_SIZE_PTR)", 0, 16)}
	n := step
	for ; n <= kmallocMax(env); n += step {
		lines = append(lines, fmt.Sprintf("kmalloc(%7d) = ok", n))
	}
	return append(lines, fmt.Sprintf("kmalloc fail, size2alloc=%d", n)), nil
}
