package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
)

// captureEnv, set to 1, makes the VM tests that capture parser testdata
// (real kernel logs) write it into the packages' testdata directories.
const captureEnv = "LKMTEST_CAPTURE_TESTDATA"

// A real KUnit test module: the kernel's own lib/kunit/kunit-example-test.c,
// taken from the kernel source at test time and built out of tree, with a
// spec that only says ktap: true. Its suites run when it loads; the KTAP
// the kernel prints is judged case by case, taint N needs no allow.
func TestVMKUnitModule(t *testing.T) {
	for _, k := range []string{"6.1", "6.12"} {
		for _, a := range vmArchs {
			t.Run(k+"/"+string(a), func(t *testing.T) { testKUnitModule(t, kernelTarget(t, a, k)) })
		}
	}
}

func testKUnitModule(t *testing.T, tg *Target) {
	src, err := Source(context.Background(), tg.Options)
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(filepath.Join(src.Dir, "lib", "kunit", "kunit-example-test.c"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kunit-example-test.c", string(code))
	write("Kbuild", "obj-m += kunit-example-test.o\n")
	write(spec.FileName, `name: kunit-example
boot:
  config: lkmtest:kunit
steps:
  - insmod: kunit-example-test
    ktap: true
  - rmmod: kunit-example-test
`)
	s, err := spec.Load(filepath.Join(dir, spec.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// lkmtest:kunit adds nothing to base.config: the test's kernel is the
	// target's own.
	r := RunTest(context.Background(), tg, s)
	t.Logf("%s", r.Summary())
	if r.Outcome != result.Pass {
		t.Fatalf("kunit-example: %s\n%s", r.Summary(), strings.Join(r.Excerpt, "\n"))
	}
	cases := r.Steps[0].Cases
	byOutcome := map[string]int{}
	for _, c := range cases {
		byOutcome[string(c.Outcome)]++
	}
	// The example suite has passing cases and cases that skip on purpose.
	if byOutcome["PASS"] < 2 || byOutcome["SKIP"] < 1 || byOutcome["FAIL"] != 0 {
		t.Errorf("kunit-example cases by outcome = %v (cases %+v)", byOutcome, cases)
	}
	var found bool
	for _, c := range cases {
		if strings.HasPrefix(c.Path, "example.example_simple_test") {
			found = true
		}
	}
	if !found {
		t.Errorf("no case example.example_simple_test among %+v", cases)
	}
	if os.Getenv(captureEnv) == "1" {
		var b strings.Builder
		for _, rec := range r.Steps[0].Records {
			b.WriteString(rec.Text + "\n")
		}
		name := fmt.Sprintf("kunit-example-%s-%s.log", majorMinor(tg.Kernel.Meta.KernelVersion), tg.Options.Arch)
		p := filepath.Join("ktap", "testdata", name)
		if err := cache.WriteFileAtomic(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("captured %s", p)
	}
}

// majorMinor is "6.1" of "6.1.192".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
