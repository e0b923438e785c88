package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"

	"github.com/lkmtest/lkmtest/harness/verdict"
)

// treeDigest hashes every name, mode and content under dir (links by
// target), to prove a run wrote nothing into a user's tree.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Write([]byte(rel + "\x00" + info.Mode().String() + "\x00"))
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			h.Write([]byte(l))
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Module trees as users have them (issue 12): a book-style repository
// (shared headers and objects two levels up, template Makefiles), a module
// in a Kbuild subdirectory, two module directories with a symbol
// dependency listed in the wrong order, and an examples directory where
// some modules cannot build on lkmtest's minimal kernels.
func TestVMModuleTrees(t *testing.T) { forEachCell(t, testModuleTrees) }

// forEachCell runs fn as a subtest per kernel (6.1, 6.12) and arch.
func forEachCell(t *testing.T, fn func(t *testing.T, tg *Target)) {
	for _, k := range []string{"6.1", "6.12"} {
		for _, a := range vmArchs {
			t.Run(k+"/"+string(a), func(t *testing.T) { fn(t, kernelTarget(t, a, k)) })
		}
	}
}

func testModuleTrees(t *testing.T, tg *Target) {
	trees := "testdata/trees"
	before := treeDigest(t, trees)
	for _, dir := range []string{"book-repo/ch5/uses_klib", "subdir", "symdep/consumer"} {
		r := runFixture(t, tg, filepath.Join(trees, dir))
		if r.Outcome != result.Pass {
			t.Errorf("%s: %s\n%s", dir, r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
	}
	r := runFixture(t, tg, filepath.Join(trees, "examples"))
	if r.Outcome != result.Error || len(r.Steps) != 5 {
		t.Fatalf("examples: %s, want ERROR at step 5 (needs_net)", r.Summary())
	}
	for _, st := range r.Steps[:4] {
		if st.Outcome != result.Pass {
			t.Errorf("examples step %d (%s) = %s %s: the modules that build must run", st.Index, st.Step, st.Outcome, st.Reason)
		}
	}
	last := r.Steps[4]
	if last.Outcome != result.Error || !strings.Contains(last.Reason, "needs_net") || !strings.Contains(last.Reason, "undefined") {
		t.Errorf("examples step 5 = %s %q: want ERROR naming needs_net and modpost's undefined symbol", last.Outcome, last.Reason)
	}
	r = runFixture(t, tg, filepath.Join(trees, "no-objm"))
	if r.Outcome != result.Error || !strings.Contains(r.Reason, "obj-m") {
		t.Errorf("no-objm: %s, want ERROR saying the Makefile sets no obj-m", r.Summary())
	}
	if after := treeDigest(t, trees); after != before {
		t.Errorf("a run wrote into the module trees (digest %s -> %s)", before, after)
	}
}

// A module directory without a test.yaml runs as a smoke test: every
// module loaded in dependency order (not name order), unloaded in reverse.
func TestVMSpecLess(t *testing.T) { forEachCell(t, testSpecLess) }

func testSpecLess(t *testing.T, tg *Target) {
	s, err := spec.SpecLess("testdata/trees/nospec")
	if err != nil {
		t.Fatal(err)
	}
	r := RunTest(context.Background(), tg, s)
	if r.Outcome != result.Pass || !r.SpecLess {
		t.Fatalf("spec-less run: %s (spec_less=%v)", r.Summary(), r.SpecLess)
	}
	var steps []string
	for _, st := range r.Steps {
		steps = append(steps, st.Step)
	}
	want := "insmod b_core, insmod a_user, rmmod a_user, rmmod b_core"
	if got := strings.Join(steps, ", "); got != want {
		t.Errorf("steps = %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, verdict.SavedSpec)); err != nil {
		t.Errorf("the written spec is not saved for lkmtest verdict: %v", err)
	}
	if _, err := spec.SpecLess("testdata/trees/book-repo"); err == nil || !strings.Contains(err.Error(), "no Kbuild or Makefile") {
		t.Errorf("SpecLess of a directory with nothing to build: %v", err)
	}
}

// The guest behaves like a Linux machine: %p hashes (virtio-rng seeds the
// RNG), grep/awk/sed/ls have GNU-compatible flags and exit statuses, and
// bash features work.
func TestVMGuestTools(t *testing.T) {
	forEachCell(t, func(t *testing.T, tg *Target) {
		r := runFixture(t, tg, "testdata/modules/guest-tools")
		if r.Outcome != result.Pass {
			t.Fatalf("%s\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
	})
}

// A printk without a trailing newline belongs to the step that printed it
// (the agent ends every step with a record of its own), on every kernel.
func TestVMPartialLine(t *testing.T) {
	forEachCell(t, func(t *testing.T, tg *Target) {
		r := runFixture(t, tg, "testdata/modules/partial-line")
		if r.Outcome != result.Pass {
			t.Fatalf("%s\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
	})
}

// A guest that stops answering in a step is judged from its console: a
// soft lockup report there makes the test CRASH, not TIMEOUT.
func TestVMLockupInStepIsCrash(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		r := runFixture(t, tg, "testdata/modules/crash-lockup-timeout")
		if r.Outcome != result.Crash || !strings.Contains(r.Reason, "soft lockup") {
			t.Fatalf("%s, want CRASH naming the soft lockup\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
		if len(r.Steps) != 1 || r.Steps[0].Outcome != result.Crash {
			t.Errorf("steps = %+v, want the step CRASH", r.Steps)
		}
	})
}

// A step that never ends with a hung task report on the console is CRASH
// naming it, not TIMEOUT.
func TestVMHungTaskIsCrash(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		r := runFixture(t, tg, "testdata/modules/crash-hung-task")
		if r.Outcome != result.Crash || !strings.Contains(r.Reason, "hung task: insmod") {
			t.Fatalf("%s, want CRASH naming the hung task\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
		if len(r.Steps) != 2 || r.Steps[1].Outcome != result.Crash {
			t.Errorf("steps = %+v, want step 2 CRASH", r.Steps)
		}
		if os.Getenv(captureEnv) == "1" && !t.Failed() {
			captureReport(t, tg, r, "crashers", "hung")
		}
	})
}
