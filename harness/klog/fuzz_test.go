package klog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The parsers see whatever a broken guest writes: they must not panic.

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("6,339,2124102,-;Hello, world\n"))
	f.Add([]byte("4,12,5,-,caller=T25;line one\\x0aline two\n SUBSYSTEM=pci\n"))
	f.Add([]byte("3,1,0,c;\\x\\x5\\\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err == nil && r.Level > 7 {
			t.Fatalf("level %d out of range for %q", r.Level, b)
		}
	})
}

func FuzzFind(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.log")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("BUG: \nOops: \nWARNING: CPU: 1 PID: 2 at : \nrefcount_t: \nlist_add corruption")
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		for _, r := range Find(lines) {
			if r.Line < 0 || r.Line >= len(lines) || r.Title == "" || r.Kind == "" {
				t.Fatalf("bad report %+v", r)
			}
		}
	})
}

// BenchmarkFind measures console-log scanning over the golden corpus, as
// the runner does for every console log (target: >= 50 MB/s).
func BenchmarkFind(b *testing.B) {
	files, _ := filepath.Glob("testdata/*/*.log")
	var lines []string
	size := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		size += len(data)
		lines = append(lines, strings.Split(string(data), "\n")...)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Find(lines)
	}
}

// BenchmarkParseRecord measures /dev/kmsg record parsing (target: >= 50 MB/s).
func BenchmarkParseRecord(b *testing.B) {
	rec := []byte("6,339,2124102,-,caller=T93;helloworld_lkm: loading out-of-tree module taints kernel.\n")
	b.SetBytes(int64(len(rec)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}
