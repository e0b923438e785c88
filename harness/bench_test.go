package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
	"github.com/lkmtest/lkmtest/harness/result"
	"github.com/lkmtest/lkmtest/harness/spec"
	"github.com/lkmtest/lkmtest/harness/verdict"
	"github.com/lkmtest/lkmtest/initramfs"
	"github.com/lkmtest/lkmtest/internal/testenv"
	"github.com/lkmtest/lkmtest/qemu"
)

// bareBoot boots the target's kernel with an init that resets at once and
// returns the wall time from QEMU's start to its exit.
func bareBoot(b *testing.B, tg *Target, initrd string) time.Duration {
	b.Helper()
	sock := b.TempDir()
	var console bytes.Buffer
	t0 := time.Now()
	vm, err := qemu.Start(context.Background(), tg.Options.Arch, qemu.WithKernel(tg.Kernel.Image),
		qemu.WithInitramfs(initrd), qemu.WithAccel(tg.Accel.Accel), qemu.WithSocketDir(sock),
		qemu.WithConsole(&console), qemu.WithTimeout(60*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	exit := vm.Wait()
	d := time.Since(t0)
	if !exit.Clean() || !strings.Contains(console.String(), "trivial-init: up") {
		b.Fatalf("bare boot did not reach the trivial init: %s\n%s", exit, console.String())
	}
	return d
}

// trivialInitramfs compiles testdata/trivial-init.c statically and packs it
// as /init.
func trivialInitramfs(b *testing.B, arch arch.Arch) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "init")
	if out, err := exec.Command(arch.CC(), "-static", "-O2", "-o", bin, "testdata/trivial-init.c").CombinedOutput(); err != nil {
		b.Fatalf("build trivial init: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(bin)
	p := filepath.Join(dir, "trivial.cpio")
	if err := initramfs.Assemble(p, "", initramfs.Overlay{Init: data}); err != nil {
		b.Fatal(err)
	}
	return p
}

// editedHello copies the hello module to dir with its greeting (and the
// spec's pattern) changed to n, so that make must recompile it. n must be
// new to the cache (module builds are cached by content).
func editedHello(b *testing.B, dir string, n int64) {
	b.Helper()
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"helloworld_lkm.c", "Kbuild", "test.yaml"} {
		data, err := os.ReadFile(filepath.Join("../modules/ch04-hello", f))
		if err != nil {
			b.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), `Hello, world\n`, fmt.Sprintf(`Hello, world %d\n`, n))
		text = strings.ReplaceAll(text, `'^Hello, world$'`, fmt.Sprintf(`'^Hello, world %d$'`, n))
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmLoop compares "lkmtest run" of the hello module (kernel and
// base image cached) with a bare boot of the same kernel with a trivial init:
// warm-edit-s after an edit of the module's source (so it is recompiled),
// warm-noedit-s for a re-run of unchanged sources (no make: the .ko files
// are cached), both as at a terminal (LKMTEST_STANDBY=on): the VM is the
// standby the previous run left, and the edited source compiles with the
// precompiled header its earlier edits got. nostandby-edit-s and
// nostandby-noedit-s are the same runs as in CI (LKMTEST_STANDBY=off,
// LKMTEST_NO_PCH=1: the VM restored from its snapshot, plain compiles), of
// a copy of the module of their own. Each run follows a pause of
// thinkTime, as a user's edit does (a standby is ready some 0.2 s after the
// run that left it). Goal (#17): ratio-edit <= 1.0, ratio-noedit <= 0.5.
func BenchmarkWarmLoop(b *testing.B) {
	for _, a := range vmArchs {
		b.Run(string(a), func(b *testing.B) { benchWarmLoop(b, a) })
	}
}

// thinkTime is BenchmarkWarmLoop's pause before each run.
const thinkTime = time.Second

func benchWarmLoop(b *testing.B, arch arch.Arch) {
	tg := archTarget(b, arch)
	bin := filepath.Join(b.TempDir(), "lkmtest")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/lkmtest").CombinedOutput(); err != nil {
		b.Fatalf("build lkmtest: %v\n%s", err, out)
	}
	trivial := trivialInitramfs(b, arch)
	terminal, ci := []string{"LKMTEST_STANDBY=on"}, []string{"LKMTEST_STANDBY=off", "LKMTEST_NO_PCH=1"}
	lkmtest := func(env []string, args ...string) *exec.Cmd {
		if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
			args = append([]string{"--cache-dir", c}, args...)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}
	b.Cleanup(func() { _ = lkmtest(ci, "standby", "stop").Run() })
	run := func(env []string, mod string) time.Duration {
		time.Sleep(thinkTime)
		cmd := lkmtest(env, "run", "--out", b.TempDir(), "--arch", string(arch), "--accel", string(tg.Accel.Accel), mod)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil || !bytes.Contains(out, []byte("1 passed, 0 failed")) {
			b.Fatalf("lkmtest run hello: %v\n%s", err, out)
		}
		return d
	}
	modT, modCI := filepath.Join(b.TempDir(), "hello"), filepath.Join(b.TempDir(), "hello")
	nonce := time.Now().UnixNano()
	// Before the clock: each copy built (its build directory exists from
	// now on); the terminal's edited once more, so that its source has a
	// precompiled header (built in the background), and a standby waits.
	editedHello(b, modCI, nonce)
	run(ci, modCI)
	editedHello(b, modT, nonce)
	run(terminal, modT)
	editedHello(b, modT, nonce+1)
	run(terminal, modT)
	time.Sleep(3 * time.Second)
	var bare, edit, noedit, edit0, noedit0 time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bare += bareBoot(b, tg, trivial)
		n := nonce + int64(i) + 2
		editedHello(b, modCI, n)
		edit0 += run(ci, modCI)
		noedit0 += run(ci, modCI)
		editedHello(b, modT, n)
		edit += run(terminal, modT)
		noedit += run(terminal, modT)
	}
	b.StopTimer()
	k := float64(b.N)
	b.ReportMetric(bare.Seconds()/k, "bare-boot-s")
	b.ReportMetric(edit.Seconds()/k, "warm-edit-s")
	b.ReportMetric(noedit.Seconds()/k, "warm-noedit-s")
	b.ReportMetric(edit0.Seconds()/k, "nostandby-edit-s")
	b.ReportMetric(noedit0.Seconds()/k, "nostandby-noedit-s")
	b.ReportMetric(edit.Seconds()/bare.Seconds(), "ratio-edit")
	b.ReportMetric(noedit.Seconds()/bare.Seconds(), "ratio-noedit")
	b.ReportMetric(tg.Kernel.Meta.ConfigureSeconds+tg.Kernel.Meta.BuildSeconds, "cold-kernel-build-s")
	b.ReportMetric(float64(tg.Kernel.Meta.OptionsY), "options-y")
}

// BenchmarkKernelCacheHit times "lkmtest kernel build" on a built config.
// Goal: <= 0.5 s.
func BenchmarkKernelCacheHit(b *testing.B) {
	testTarget(b)
	bin := filepath.Join(b.TempDir(), "lkmtest")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/lkmtest").CombinedOutput(); err != nil {
		b.Fatalf("build lkmtest: %v\n%s", err, out)
	}
	args := []string{"kernel", "build"}
	if c := os.Getenv("LKMTEST_CACHE_DIR"); c != "" {
		args = append([]string{"--cache-dir", c}, args...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !bytes.HasPrefix(out, []byte("cached ")) {
			b.Fatalf("kernel build: %v\n%s", err, out)
		}
	}
}

// BenchmarkColdKernels reports the cold build time of each of the four
// kernels of the matrix (6.1 and 6.12 on x86_64 and arm64), as recorded in
// their cache metadata when they were built (building them if missing).
// The whole cold matrix from an empty cache is timed by make bench-cold.
func BenchmarkColdKernels(b *testing.B) {
	testenv.NeedsKernelBuild(b)
	c, err := cache.Open(os.Getenv("LKMTEST_CACHE_DIR"))
	if err != nil {
		b.Fatal(err)
	}
	for _, kernel := range kbuild.DebianVersions {
		for _, arch := range vmArchs {
			o := &Options{Cache: c, Arch: arch, Kernel: kernel, Log: testLog{}}
			k, err := Kernel(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(k.Meta.ConfigureSeconds+k.Meta.BuildSeconds, fmt.Sprintf("%s-%s-build-s", kernel, arch))
		}
	}
	for i := 0; i < b.N; i++ {
	}
}

// BenchmarkTimeToVerdict reports how soon the verdict of each fault comes:
// the figures behind the README's fault table, which the VM tests do not
// time (they assert outcome, reason and step). crash-s is from the
// guest's readiness (the agent's hello and the modules built) to the
// CRASH of an oops in a module's init, panic-s the same for a kernel
// panic, timeout-late-s how long after its step's own timeout (5 s) a
// module that never returns is TIMEOUT, and lost-s from QEMU's kill, while
// a step runs, to LOST.
func BenchmarkTimeToVerdict(b *testing.B) {
	for _, a := range vmArchs {
		b.Run(string(a), func(b *testing.B) { benchTimeToVerdict(b, archTarget(b, a)) })
	}
}

func benchTimeToVerdict(b *testing.B, tg *Target) {
	run := func(dir string, want result.Outcome) verdict.Result {
		b.Helper()
		s, err := spec.Load(filepath.Join(dir, spec.FileName))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		r := RunTest(ctx, tg, s)
		if r.Outcome != want {
			b.Fatalf("%s: %s, want %s", dir, r.Summary(), want)
		}
		return r
	}
	sinceReady := func(r verdict.Result) time.Duration { return r.Duration - max(r.Boot, r.Modules) }
	const hangStep = 5 * time.Second // hang-init's step timeout
	var crash, panicked, late, lost time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		crash += sinceReady(run("testdata/modules/oops-init", result.Crash))
		panicked += sinceReady(run("testdata/modules/crash-panic", result.Crash))
		late += sinceReady(run("testdata/modules/hang-init", result.Timeout)) - hangStep
		killed := killInStep(b, tg, hangLine)
		run("testdata/modules/hang-init", result.Lost)
		lost += time.Since(killed())
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(crash.Seconds()/n, "crash-s")
	b.ReportMetric(panicked.Seconds()/n, "panic-s")
	b.ReportMetric(late.Seconds()/n, "timeout-late-s")
	b.ReportMetric(lost.Seconds()/n, "lost-s")
}
