package harness

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/spec"
)

// A spec's boot.config names a file or one of lkmtest's fragments; both
// give the variant label of the file's (or fragment's) name, and an
// lkmtest:NAME is read from the embedded fragments wherever lkmtest runs.
func TestFragmentVariants(t *testing.T) {
	s := &spec.Spec{Dir: "testdata/modules/boot-config", Boot: spec.Boot{Config: "hz100.config"}}
	v := specVariant(s)
	if !filepath.IsAbs(v) || VariantName(v) != "hz100" {
		t.Errorf("file boot.config: variant %q, label %q; want an absolute path and hz100", v, VariantName(v))
	}
	if _, err := ReadFragment(v); err != nil {
		t.Error(err)
	}
	s.Boot.Config = "lkmtest:debug"
	if v := specVariant(s); v != "lkmtest:debug" || VariantName(v) != "debug" {
		t.Errorf("lkmtest:debug: variant %q, label %q", v, VariantName(v))
	}
	t.Chdir(t.TempDir()) // no kernel-configs directory here
	f, err := ReadFragment("lkmtest:debug")
	if err != nil || f.Name != "kernel-configs/debug.config" || !strings.Contains(f.Text, "CONFIG_PROVE_LOCKING=y") {
		t.Errorf("ReadFragment(lkmtest:debug) = %+v, %v", f, err)
	}
	if _, err := ReadFragment("lkmtest:base"); err == nil || !strings.Contains(err.Error(), "applied to every kernel") {
		t.Errorf("ReadFragment(lkmtest:base): %v", err)
	}
}
