package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Every variable lkmtest reads is in the README, and only cmd/lkmtest
// reads lkmtest's own variables (harness/cache's XDG_CACHE_HOME and the
// tests' switches in testenv aside).
func TestEnvDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range envVars {
		if !strings.Contains(string(readme), "`"+v.Name) {
			t.Errorf("%s is not in the README (as `%s...`)", v.Name, v.Name)
		}
	}
	out, err := exec.Command("git", "-C", "../..", "grep", "-n", `Getenv("`, "--", "*.go", ":!*_test.go").Output()
	if err != nil {
		t.Fatalf("git grep: %v", err)
	}
	re := regexp.MustCompile(`Getenv\("([A-Z_]+)"\)`)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file := strings.SplitN(line, ":", 2)[0]
		ok := file == "cmd/lkmtest/env.go" || m[1] == "XDG_CACHE_HOME" && file == "harness/cache/cache.go" ||
			strings.Contains(file, "/testenv/") // the tests' own switches
		if !ok {
			t.Errorf("%s reads %s: read variables once, in cmd/lkmtest/env.go, into options", file, m[1])
		}
	}
}

// The variables reach the pipeline's options.
func TestEnvReachesOptions(t *testing.T) {
	for k, v := range map[string]string{"LKMTEST_NO_SNAPSHOT": "1", "LKMTEST_NO_PROBE_MEMO": "1", "LKMTEST_AGENT_DIR": "/agents",
		"LKMTEST_KERNEL_MIRROR": "https://mirror.example/linux", "LKMTEST_DEBIAN_SRC": "/srv/src"} {
		t.Setenv(k, v)
	}
	c := &common{cacheDir: t.TempDir(), arch: "x86_64", kernel: "6.1", accel: "tcg"}
	cmd := newRootCmd()
	o, _, err := c.options(cmd, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !o.NoSnapshots || !o.NoProbeMemo || o.AgentDir != "/agents" || o.KernelMirror != "https://mirror.example/linux" || o.DebianSrc != "/srv/src" {
		t.Errorf("options %+v do not carry the environment", o)
	}
}
