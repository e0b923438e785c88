package main

// Kernels shared through an OCI registry (issue #16 item 2), end to end:
// the real 6.1 x86_64 kernel of the test cache pushed to an in-process
// registry, pulled into empty caches, a module built and a test passed on
// it without a kernel make, and the registry's faults: a corrupted blob, a
// tag naming another kernel, an unreachable or refusing registry, a pull
// killed midway.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/registry/registrytest"
	"github.com/lkmtest/lkmtest/internal/testenv"
)

// makeShim puts a make on the PATH that logs its arguments, one line per
// run, to the returned file, and runs the real make.
func makeShim(t *testing.T) (env []string, log string) {
	t.Helper()
	real, err := lookPath("make")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log = filepath.Join(dir, "make.log")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + log + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "make"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + ":" + os.Getenv("PATH")}, log
}

func lookPath(name string) (string, error) {
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// manifestLayers are the layer digests of the manifest tag names, by name.
func manifestLayers(t *testing.T, srv *registrytest.Server, tag string) map[string]string {
	t.Helper()
	var m struct {
		Layers []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(srv.Manifest(t, "kernels", tag), &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range m.Layers {
		out[l.Annotations["com.github.lkmtest.layer"]] = l.Digest
	}
	return out
}

// nothingPublished checks that a failed or killed pull published no
// kernel in cache cd (leftovers of a killed one are allowed: the next
// lookup removes them).
func nothingPublished(t *testing.T, cd, key string) {
	t.Helper()
	if got := complete(t, cd, "kernels"); len(got) != 0 {
		t.Errorf("published: %v", got)
	}
	if _, err := os.Stat(filepath.Join(cd, "kernels", key)); err == nil {
		t.Errorf("%s exists", filepath.Join(cd, "kernels", key))
	}
}

func TestKernelRegistry(t *testing.T) {
	testenv.NeedsVM(t)
	srv := registrytest.New(t)
	repo := srv.Repo("kernels")

	// Push the test cache's 6.1 x86_64 kernel (built first if missing).
	stdout, stderr, code := cli(t, "kernel", "push", repo, "--kernel", "6.1", "--arch", "x86_64", "--json")
	var pushed struct {
		Ref, Digest, Key, Release string
		Size                      int64
		Layers                    []struct{ Name string }
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &pushed) != nil {
		t.Fatalf("kernel push: exit %d\n%s%s", code, stdout, stderr)
	}
	if pushed.Ref != repo+":"+pushed.Key || pushed.Release != "6.1.192" || len(pushed.Layers) != 3 {
		t.Errorf("pushed %+v", pushed)
	}
	if pushed.Size > 150e6 {
		t.Errorf("the 6.1 x86_64 artifact is %d bytes compressed, the goal is at most 150 MB", pushed.Size)
	}
	t.Logf("6.1 x86_64 artifact: %.1f MB compressed", float64(pushed.Size)/1e6)
	key := pushed.Key
	var pulledFiles int

	// An empty cache (the initramfs parts shared, no kernel, no source
	// tree): the run pulls the kernel, builds hello against it and passes,
	// and the only make that runs is the module's (M=).
	t.Run("run pulls and passes without a kernel make", func(t *testing.T) {
		cd := sharedCache(t, "base", "agents", "helpers", "busybox", "memo")
		env, makeLog := makeShim(t)
		stdout, stderr, code := cliEnv(t, nil, env, "--cache-dir", cd, "run", "--out", t.TempDir(),
			"--kernel", "6.1", "--arch", "x86_64", "--kernel-registry", repo, "hello")
		if code != 0 || !strings.Contains(stdout, "1 passed, 0 failed") {
			t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "kernel 6.1.192 x86_64: pulled from "+repo+":"+key) || strings.Contains(stderr, "building") {
			t.Errorf("stderr does not say the kernel was pulled and not built:\n%s", stderr)
		}
		b, _ := os.ReadFile(makeLog)
		makes := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) == 0 {
			makes = nil
		}
		if len(makes) == 0 {
			t.Errorf("no make ran: the module was not built through the shim")
		}
		for _, m := range makes {
			if !strings.Contains(m, " M=") || !strings.Contains(m, filepath.Join(cd, "kernels", key, "build")) {
				t.Errorf("a make that is not a module build against the pulled kernel ran: %s", m)
			}
		}
		entry := filepath.Join(cd, "kernels", key)
		if l, err := os.Readlink(filepath.Join(entry, "build", "source")); err != nil || l != "../source" {
			t.Errorf("build/source -> %q (%v): want the pulled source", l, err)
		}
		for _, gone := range []string{filepath.Join(entry, "build.log"), filepath.Join(entry, "build", "vmlinux"), filepath.Join(cd, "src")} {
			if _, err := os.Stat(gone); err == nil {
				t.Errorf("%s exists: nothing was to be built or unpacked", gone)
			}
		}
		if _, err := os.Stat(filepath.Join(entry, "pulled.json")); err != nil {
			t.Errorf("no pulled.json: %v", err)
		}
		pulledFiles = countFiles(entry)
	})

	t.Run("a corrupted blob is refused", func(t *testing.T) {
		d := manifestLayers(t, srv, key)["build"]
		srv.Corrupt(d, true)
		defer srv.Corrupt(d, false)
		cd := t.TempDir()
		_, stderr, code := cli(t, "--cache-dir", cd, "kernel", "pull", repo, "--kernel", "6.1", "--arch", "x86_64")
		if code != 2 || !strings.Contains(stderr, "refused: layer build") || !strings.Contains(stderr, "does not match its digest") {
			t.Errorf("corrupted layer: exit %d\n%s", code, stderr)
		}
		nothingPublished(t, cd, key)
		if left, _ := filepath.Glob(filepath.Join(cd, "kernels", "*.tmp-*")); len(left) != 0 {
			t.Errorf("the refused pull left %v", left)
		}
	})

	t.Run("a tag naming another arch is refused by the metadata", func(t *testing.T) {
		stdout, stderr, code := cli(t, "kernel", "key", "--kernel", "6.1", "--arch", "arm64", "--json")
		var keys []struct{ Key string }
		if code != 0 || json.Unmarshal([]byte(stdout), &keys) != nil || len(keys) != 1 {
			t.Fatalf("kernel key: exit %d\n%s%s", code, stdout, stderr)
		}
		armKey := keys[0].Key
		srv.Retag(t, "kernels", key, armKey)
		cd := t.TempDir()
		_, stderr, code = cli(t, "--cache-dir", cd, "kernel", "pull", repo, "--kernel", "6.1", "--arch", "arm64")
		want := "its metadata is linux 6.1.192 x86_64 (key " + key + "), not linux 6.1.192 arm64 (key " + armKey + "): the tag names another kernel"
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("x86_64 kernel tagged as arm64's: exit %d\n%s\nwant %q", code, stderr, want)
		}
		nothingPublished(t, cd, armKey)
	})

	t.Run("an unreachable registry: one line, the cached kernel", func(t *testing.T) {
		stdout, stderr, code := cli(t, "run", "--out", t.TempDir(), "--kernel", "6.1", "--arch", "x86_64",
			"--kernel-registry", "127.0.0.1:1/kernels", "hello")
		if code != 0 || !strings.Contains(stdout, "1 passed, 0 failed") {
			t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
		}
		var lines []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "kernel registry") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "kernel registry 127.0.0.1:1/kernels unreachable") ||
			!strings.Contains(lines[0], "connection refused") || !strings.HasSuffix(lines[0], "the kernel stays in this cache only") {
			t.Errorf("registry lines %q, want one saying it is unreachable and the kernel stays local:\n%s", lines, stderr)
		}
	})

	t.Run("a refusing registry: one line, building locally", func(t *testing.T) {
		// A kernel the cache lacks (a fragment of this test's own): the
		// pull is refused and the local build starts; it is stopped there.
		refusing := registrytest.Refusing(t, 403) + "/kernels"
		cd := sharedCache(t, "src", "memo")
		frag := filepath.Join(t.TempDir(), "registry.config")
		if err := os.WriteFile(frag, []byte("# lkmtest registry test: a kernel no cache has\nCONFIG_LOCALVERSION=\"-registry\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := start(t, nil, "--cache-dir", cd, "kernel", "build", "--kernel-registry", refusing, "--kconfig", frag)
		p.waitFor(t, "not in the cache, building", 2*time.Minute)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.wait(10 * time.Second)
		var lines []string
		for _, l := range strings.Split(p.errText(), "\n") {
			if strings.Contains(l, "kernel registry") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "kernel registry "+refusing+" refused access (pull") ||
			!strings.Contains(lines[0], "HTTP 403") || !strings.Contains(lines[0], "docker login") || !strings.HasSuffix(lines[0], "; building locally") {
			t.Errorf("registry lines %q, want one saying it refused and the kernel is built locally:\n%s", lines, p.errText())
		}
	})

	t.Run("a pull killed midway leaves nothing, the next pull works", func(t *testing.T) {
		cd := t.TempDir()
		srv.Throttle(1 << 20) // about 10 s for the 6.1 x86_64 kernel's source layer
		p := start(t, nil, "--cache-dir", cd, "kernel", "pull", repo, "--kernel", "6.1", "--arch", "x86_64")
		waitUntil(t, "a half-pulled kernel in "+filepath.Join(cd, "kernels"), time.Minute, func() bool {
			left, _ := filepath.Glob(filepath.Join(cd, "kernels", key+".tmp-*"))
			return len(left) > 0 && countFiles(left[0]) > 300
		})
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		p.wait(10 * time.Second)
		srv.Throttle(0)
		nothingPublished(t, cd, key)
		if left, _ := filepath.Glob(filepath.Join(cd, "kernels", key+".tmp-*")); len(left) == 0 {
			t.Fatalf("the kill came too late: nothing half-pulled to clean up")
		}
		stdout, stderr, code := cli(t, "--cache-dir", cd, "kernel", "pull", repo, "--kernel", "6.1", "--arch", "x86_64")
		if code != 0 || !strings.Contains(stdout, "pulled linux 6.1.192 x86_64 from "+repo+":"+key) {
			t.Fatalf("the next pull: exit %d\n%s%s", code, stdout, stderr)
		}
		if left, _ := filepath.Glob(filepath.Join(cd, "kernels", "*.tmp-*")); len(left) != 0 {
			t.Errorf("leftovers of the killed pull remain: %v", left)
		}
		if got := complete(t, cd, "kernels"); len(got) != 1 {
			t.Errorf("published entries %v, want one", got)
		}
		entry := filepath.Join(cd, "kernels", key)
		if n := countFiles(entry); pulledFiles != 0 && n != pulledFiles {
			t.Errorf("the entry pulled after the kill has %d files, a whole pull %d", n, pulledFiles)
		}
		// Pulled again: a hit, nothing read.
		stdout, _, code = cli(t, "--cache-dir", cd, "kernel", "pull", repo, "--kernel", "6.1", "--arch", "x86_64")
		if code != 0 || !strings.Contains(stdout, "cached linux 6.1.192 x86_64: nothing to pull") {
			t.Errorf("pull of a cached kernel: exit %d\n%s", code, stdout)
		}
	})
}
