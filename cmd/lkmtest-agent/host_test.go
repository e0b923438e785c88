package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/modbuild"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/initramfs"
)

// TestRefusesOnHost runs the agent and the C module helper on this host, as
// a careless user might: both must refuse, in every mode, before touching
// any module. (A module that exists is offered, so that a missing check
// would show as an attempt to load it.)
func TestRefusesOnHost(t *testing.T) {
	dir := t.TempDir()
	agent := filepath.Join(dir, "lkmtest-agent")
	if out, err := exec.Command("go", "build", "-o", agent, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	ko := filepath.Join(dir, "fake.ko")
	os.WriteFile(ko, []byte("\x7fELF not really a module"), 0o644)

	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	host, err := arch.Host()
	if err != nil {
		t.Fatal(err)
	}
	helper, err := modbuild.StaticC(t.Context(), c, host, initramfs.ChildName, initramfs.ChildSource, "initramfs/child/lkmtest-child.c")
	if err != nil {
		t.Fatal(err)
	}
	insmodLink := filepath.Join(dir, "insmod")
	if err := os.Symlink(helper, insmodLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
		want string
	}{
		{"agent as init", exec.Command(agent), "not PID 1"},
		{"agent child insmod", withEnv(exec.Command(agent, ko, ""), childEnv+"=insmod"), "needs the agent (PID 1) as parent"},
		{"agent child rmmod", withEnv(exec.Command(agent, "fake"), childEnv+"=rmmod"), "needs the agent (PID 1) as parent"},
		{"C helper insmod", exec.Command(insmodLink, ko, ""), "not started by the agent"},
	} {
		out, err := tc.cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s on the host: %v, output %q; want exit 2 and %q", tc.name, err, out, tc.want)
		}
	}
}

func withEnv(c *exec.Cmd, kv string) *exec.Cmd {
	c.Env = append(os.Environ(), kv)
	return c
}

// TestNoHostModuleLoading reads every Go file of lkmtest outside the agent:
// none may call init_module/finit_module/delete_module or run insmod,
// rmmod or modprobe. Module loading exists only in the guest.
func TestNoHostModuleLoading(t *testing.T) {
	forbidden := regexp.MustCompile(`\b(InitModule|FinitModule|DeleteModule|SYS_INIT_MODULE|SYS_FINIT_MODULE|SYS_DELETE_MODULE)\b|Command(Context)?\([^)]*"(insmod|rmmod|modprobe)"`)
	var checked int
	err := filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "lkmtest-agent" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checked++
		if m := forbidden.Find(b); m != nil {
			t.Errorf("%s: %s: host code must never load or unload modules", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 40 {
		t.Errorf("checked only %d Go files", checked)
	}
}
