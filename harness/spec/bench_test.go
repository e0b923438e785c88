package spec

import (
	"strings"
	"testing"
)

// BenchmarkFindSuite decodes every spec of the suite and of the fixtures
// (target: <= 50 ms for the whole suite).
func BenchmarkFindSuite(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, root := range []string{"../../modules", "../testdata/modules"} {
			if _, err := Find(root); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("name: x\nsteps:\n  - insmod: m\n    log: ['a', {match: b, level: info, count: 2}]\n")
	f.Add("name: x\nrequires: {kernel: '>=5.4 <6', config: [CONFIG_A=y]}\nallow: [{kind: WARNING}]\nsteps:\n  - rmmod: m\n    expect: SIGKILL\n")
	f.Add("steps: [{insmod: 'a', log_any: ['(?P<x>.)'], log_absent: ['${x}']}]\n")
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSaved("fuzz.yaml", []byte(s))
		if err == nil && (sp.Name == "" || len(sp.Steps) == 0) {
			t.Fatalf("accepted a spec without name or steps: %q", s)
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
