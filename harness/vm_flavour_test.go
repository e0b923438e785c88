package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/klog"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/verdict"
)

// The bug-finding kernel: one build of 6.1 x86_64 with the flavours kasan,
// kfence, kmemleak and ubsan together (they coexist: KASAN leaves KFENCE's
// objects to KFENCE). make test covers the
// flavours on x86_64; the GitHub workflow runs them on arm64 too.
const testFlavours = "kasan,kfence,kmemleak,ubsan"

// membugsSpec writes a test of the membugs fixture (its bug= and the steps
// after insmod) into a directory of its own and returns it.
func membugsSpec(t *testing.T, bug, after string) string {
	t.Helper()
	return membugsSpecHead(t, bug, "", after)
}

// membugsSpecHead is membugsSpec with top-level keys (head) of its own.
func membugsSpecHead(t *testing.T, bug, head, after string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "membugs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"membugs.c", "Kbuild"} {
		b, err := os.ReadFile(filepath.Join("testdata/modules/membugs", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := fmt.Sprintf("name: membugs-%s\ntimeout: 120s\n%ssteps:\n  - insmod: membugs\n    params: bug=%s\n%s", bug, head, bug, after)
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// firstReport is the first crash report of the result, in a step or after.
func firstReport(r verdict.Result) (klog.Report, bool) {
	for _, st := range r.Steps {
		if len(st.Reports) > 0 {
			return st.Reports[0], true
		}
	}
	if len(r.Reports) > 0 {
		return r.Reports[0], true
	}
	return klog.Report{}, false
}

// Each memory bug of a module is CRASH on the flavoured kernel, titled by
// the bug, the access and the function, with the module's source line;
// the fixed twin passes, kmemleak's scans included.
func TestVMFlavourBugs(t *testing.T) {
	tg := flavourTarget(t, arch.X86_64, "6.1", "auto", testFlavours)
	if want := "6.1.192-x86_64+kasan+kfence+kmemleak+ubsan"; !strings.HasPrefix(tg.Name(), "6.1.") || !strings.HasSuffix(tg.Name(), "-x86_64+kasan+kfence+kmemleak+ubsan") {
		t.Fatalf("target %s, want a cell like %s", tg.Name(), want)
	}
	src := "testdata/modules/membugs/membugs.c"
	rmmod := "  - rmmod: membugs\n"
	for _, c := range []struct {
		bug, after string
		kind       klog.Kind
		title      string   // what the title must hold
		lines      []string // the source lines the report may point at
	}{
		{"uaf", "", klog.KindKASAN, "use-after-free Read of size 4 in membugs_uaf", []string{"v = READ_ONCE(p[0]);"}},
		{"oob", "", klog.KindKASAN, "out-of-bounds Write of size 1 in membugs_oob", []string{"p[32] = 'y';"}},
		// GCC may inline the leaking function into init: the trace then
		// names init, at the call.
		{"leak", rmmod, klog.KindLeak, "(64 bytes)", []string{"char *p = kmalloc(64, GFP_KERNEL);", "membugs_leak();"}},
		{"shift", "", klog.KindUBSAN, "UBSAN: shift-out-of-bounds in membugs.c:", []string{"return (int)(one << shift);"}},
		{"index", "", klog.KindUBSAN, "UBSAN: array-index-out-of-bounds in membugs.c:", []string{"return a[i];"}},
		{"kfence", "", klog.KindKFENCE, "KFENCE: use-after-free read in membugs_kfence", []string{"return READ_ONCE(p[0]) == 'K';\t/* read after free */"}},
	} {
		t.Run(c.bug, func(t *testing.T) {
			r := runFixture(t, tg, membugsSpec(t, c.bug, c.after))
			rep, ok := firstReport(r)
			if r.Outcome != result.Crash || !ok {
				t.Fatalf("%s, want CRASH with a %s report\n%s", r.Summary(), c.kind, strings.Join(r.Excerpt, "\n"))
			}
			if rep.Kind != c.kind || !strings.Contains(rep.Title, c.title) {
				t.Errorf("report %s %q, want %s holding %q", rep.Kind, rep.Title, c.kind, c.title)
			}
			if c.kind != klog.KindLeak && (rep.Module != "membugs" || !strings.HasPrefix(rep.Func, "membugs_"+c.bug)) {
				t.Errorf("report in %s [%s], want membugs_%s [membugs]", rep.Func, rep.Module, c.bug)
			}
			var want []string
			for _, l := range c.lines {
				want = append(want, fmt.Sprintf("membugs.c:%d", lineOf(t, src, l)))
			}
			rec := r.Record()
			if len(rec.Crashes) == 0 || !slices.Contains(want, rec.Crashes[0].Source) {
				t.Errorf("crashes %+v, want the first at one of %v\n%s", rec.Crashes, want, strings.Join(r.Excerpt, "\n"))
			}
			if c.kind == klog.KindLeak && !strings.Contains(rep.Title, "memory leak in membugs_") {
				t.Errorf("leak title %q names no function of membugs", rep.Title)
			}
			if os.Getenv(captureEnv) == "1" && c.kind != klog.KindLeak && !t.Failed() {
				captureReport(t, tg, r, "membugs", c.bug)
			}
		})
	}
	t.Run("fixed twin", func(t *testing.T) {
		r := runFixture(t, tg, membugsSpec(t, "none", rmmod))
		if r.Outcome != result.Pass {
			t.Fatalf("%s, want PASS\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
	})
}

// captureReport writes the kernel log of r's first step with a report (or
// its console when no step's log has one), with what the test checked of
// the report, as a golden log of the crash catalogue
// (harness/klog/testdata/KIND/RELEASE-ARCH-FIXTURE-WHAT.log): written by a
// run on a real guest, never typed.
func captureReport(t *testing.T, tg *Target, r verdict.Result, fixture, what string) {
	t.Helper()
	var lines []string
	for _, st := range r.Steps {
		lines = nil
		for _, rec := range st.Records {
			lines = append(lines, rec.Lines()...)
		}
		if len(klog.Find(lines)) > 0 {
			break
		}
	}
	source := "kernel log of its first step with a report"
	if len(klog.Find(lines)) == 0 {
		lines, source = verdict.ConsoleLines(filepath.Join(r.Dir, verdict.ConsoleFile)), "console"
	}
	reps := klog.Find(lines)
	if len(reps) == 0 {
		t.Fatalf("capture: no report in the test's logs")
	}
	head := fmt.Sprintf("KIND: %s\nTITLE: %s\nFUNC: %s\nMODULE: %s\n", reps[0].Kind, reps[0].Title, reps[0].Func, reps[0].Module)
	if len(reps) > 1 {
		head += fmt.Sprintf("COUNT: %d\n", len(reps))
	}
	head += fmt.Sprintf("# The %s of lkmtest's %s fixture, %s, on %s (%s, %s=1).\n\n", source, fixture, what, tg.Name(), t.Name(), captureEnv)
	dir := filepath.Join("klog/testdata", strings.ToLower(strings.ReplaceAll(string(reps[0].Kind), "_", "-")))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%s-%s-%s.log", tg.Kernel.Meta.KernelVersion, tg.Options.Arch, fixture, what)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(head+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}

// SLUB debug's poison (slub_debug=P on the default kernel): a write after
// kfree() is found when the cache is validated, and the report is the
// module's, by the object's allocation stack, at its kmalloc line.
func TestVMSlubDebugPoison(t *testing.T) {
	forEachArch(t, func(t *testing.T, tg *Target) {
		after := "    log: ['^membugs: object of size (?P<size>[0-9]+)$']\n" +
			"  - write: /sys/kernel/slab/kmalloc-${size}/validate\n    data: '1'\n"
		r := runFixture(t, tg, membugsSpecHead(t, "poison", "boot:\n  cmdline: [slub_debug=FZPU]\n", after))
		rep, ok := firstReport(r)
		if r.Outcome != result.Crash || !ok {
			t.Fatalf("%s, want CRASH with a SLAB report\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
		}
		if rep.Kind != klog.KindSlab || !regexp.MustCompile(`^slab: Poison overwritten in kmalloc-256 \(allocated in membugs_(poison|init)\)$`).MatchString(rep.Title) || rep.Module != "membugs" {
			t.Errorf("report %s %q [%s], want SLAB \"slab: Poison overwritten in kmalloc-N (allocated in membugs_poison)\" [membugs]", rep.Kind, rep.Title, rep.Module)
		}
		src := "testdata/modules/membugs/membugs.c"
		want := []string{fmt.Sprintf("membugs.c:%d", lineOf(t, src, "/* its track: this line */")),
			fmt.Sprintf("membugs.c:%d", lineOf(t, src, "membugs_poison();"))}
		rec := r.Record()
		if len(rec.Crashes) == 0 || !slices.Contains(want, rec.Crashes[0].Source) {
			t.Errorf("crashes %+v, want the first at one of %v\n%s", rec.Crashes, want, strings.Join(r.Excerpt, "\n"))
		}
		if os.Getenv(captureEnv) == "1" && !t.Failed() {
			captureReport(t, tg, r, "membugs", "poison")
		}
	})
}
