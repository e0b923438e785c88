package spec

import (
	"fmt"
	"strings"
	"testing"
)

// boot.config: lkmtest:NAME names one of lkmtest's own fragments; a name it
// does not have, or one every kernel gets anyway, is an error at the key.
func TestBootConfigFragmentRef(t *testing.T) {
	const text = "name: x\nboot:\n  memory: 128\n  config: %s\nsteps:\n  - insmod: m\n"
	s, err := Load(writeSpec(t, fmt.Sprintf(text, "lkmtest:debug")))
	if err != nil || s.Boot.Config != "lkmtest:debug" {
		t.Fatalf("lkmtest:debug: %v", err)
	}
	for ref, want := range map[string]string{
		"lkmtest:nope":   `boot.config "lkmtest:nope": no such fragment in lkmtest's kernel-configs; known fragments: lkmtest:debug, lkmtest:kasan, lkmtest:kfence, lkmtest:kmemleak, lkmtest:kunit`,
		"lkmtest:base":   `boot.config "lkmtest:base": kernel-configs/base.config is applied to every kernel already and cannot be named`,
		"lkmtest:x86_64": `kernel-configs/x86_64.config is applied to every kernel already`,
	} {
		p := writeSpec(t, fmt.Sprintf(text, ref))
		_, err := Load(p)
		if prefix := p + ":4: "; err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v\nwant %q...%q", ref, err, prefix, want)
		}
	}
	// A saved spec (lkmtest verdict) is judged again, not built: a fragment
	// name it gave is not looked up again, but base is never one.
	if _, err := ParseSaved("spec.yaml", []byte(fmt.Sprintf(text, "lkmtest:gone"))); err != nil {
		t.Errorf("saved spec with lkmtest:gone: %v", err)
	}
	if _, err := ParseSaved("spec.yaml", []byte(fmt.Sprintf(text, "lkmtest:base"))); err == nil {
		t.Error("saved spec with lkmtest:base accepted")
	}
}
