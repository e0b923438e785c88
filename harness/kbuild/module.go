package kbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/qemu"
)

// ModuleBuildError is a module that failed to compile; Output holds the
// compiler's messages with paths pointing at the module's own directory.
type ModuleBuildError struct {
	// Dir is the module's source directory.
	Dir string
	// Output is the build output.
	Output string
	// Err is the make failure.
	Err error
}

func (e *ModuleBuildError) Error() string {
	return fmt.Sprintf("build module %s: %v\n%s", e.Dir, e.Err, strings.TrimRight(e.Output, "\n"))
}

func (e *ModuleBuildError) Unwrap() error { return e.Err }

// BuildModules syncs the module directory src into scratch (so src stays
// clean) and builds it with make -C <kernel build dir> M=<scratch>. scratch
// may persist between calls: files whose content did not change keep their
// modification time, so make rebuilds only what an edit touched. The caller
// must not build in the same scratch directory concurrently. It returns the
// paths of the .ko files, sorted.
func BuildModules(ctx context.Context, k *Kernel, arch qemu.Arch, src, scratch string, log io.Writer) ([]string, error) {
	if log == nil {
		log = io.Discard
	}
	if err := syncTree(src, scratch); err != nil {
		return nil, fmt.Errorf("build module %s: copy to %s: %w", src, scratch, err)
	}
	var out bytes.Buffer
	args := append([]string{"-C", k.BuildDir, "M=" + scratch}, archArgs(arch, k.Meta.KernelVersion)...)
	// __FILE__ (in BUG and WARNING reports) names the module's own files,
	// not the build directory: "kernel BUG at crashers.c:34".
	args = append(args, "KCFLAGS=-fmacro-prefix-map="+scratch+"/=")
	// (ccache was measured and left out: hashing the kernel headers costs
	// more than the .mod.c compile it would save.)
	if os.Getenv("LKMTEST_NO_PROBE_MEMO") == "" && k.ProbeDir != "" && os.MkdirAll(k.ProbeDir, 0o700) == nil {
		if arg := probeMemoArg(k.ProbeDir); arg != "" {
			args = append(args, arg)
		}
	}
	args = append(args, "modules")
	err := run(ctx, io.MultiWriter(&out, log), "", "make", args...)
	_ = os.WriteFile(filepath.Join(scratch, "build.log"), out.Bytes(), 0o600)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.ReplaceAll(out.String(), scratch+"/", src+"/")
		return nil, &ModuleBuildError{Dir: src, Output: msg, Err: err}
	}
	kos, _ := filepath.Glob(filepath.Join(scratch, "*.ko"))
	if len(kos) == 0 {
		return nil, &ModuleBuildError{Dir: src, Output: out.String(), Err: fmt.Errorf("no .ko produced (does its Kbuild/Makefile set obj-m?)")}
	}
	sort.Strings(kos)
	return kos, nil
}

// SourceDigest hashes the names and contents of a module directory's source
// files (the files syncTree copies): equal digests build equal modules
// against the same kernel.
func SourceDigest(src string) (string, error) {
	h := sha256.New()
	err := walkSources(src, func(rel string, data []byte) error {
		fmt.Fprintf(h, "%d:%s:%d:", len(rel), rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// walkSources calls fn for every source file under src: regular files
// that are not build products, outside hidden directories.
func walkSources(src string, fn func(rel string, data []byte) error) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || isBuildProduct(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fn(rel, b)
	})
}

// syncTree makes the source files of dst equal to those of src: it writes
// files that are new or differ, leaves identical ones untouched (their
// mtimes matter to make) and removes sources that src no longer has. Build
// products are neither copied nor removed.
func syncTree(src, dst string) error {
	want := map[string]bool{}
	err := walkSources(src, func(rel string, b []byte) error {
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		want[rel] = true
		if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, b) {
			return nil
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		return err
	}
	return filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || isBuildProduct(d.Name()) || d.Name() == "build.log" {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		if !want[rel] {
			return os.Remove(p)
		}
		return nil
	})
}

func isBuildProduct(name string) bool {
	for _, suf := range []string{".o", ".ko", ".mod", ".mod.c", ".cmd", ".symvers", ".order", ".a"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return strings.HasPrefix(name, ".")
}
