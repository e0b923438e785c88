package harness

import (
	"io"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kbuild"
)

// Options configure a pipeline run for one kernel and arch.
type Options struct {
	// Cache is the cache directory.
	Cache *cache.Dir
	// Arch is the guest architecture.
	Arch arch.Arch
	// Kernel is a Debian series ("6.1") or a kernel.org release ("6.6.62").
	Kernel string
	// KernelSrc is a local kernel tree to build instead (--kernel-src).
	KernelSrc string
	// KernelSHA256 is the release tarball's checksum (--kernel-sha256).
	KernelSHA256 string
	// Accel is auto, kvm or tcg.
	Accel string
	// Out is the run directory for artefacts.
	Out string
	// Timeout overrides every test's timeout when > 0.
	Timeout time.Duration
	// Jobs is make's -j for kernel builds (0: number of CPUs).
	Jobs int
	// VMs is how many test VMs may run at once (0: one more than the
	// number of CPUs: a VM waiting on its guest's timers, or starting,
	// leaves its CPU to another).
	VMs int
	// Log receives progress lines.
	Log io.Writer
	// Verbose also streams build output and the serial console to Log.
	Verbose bool
	// SrcRoot is lkmtest's source tree ("" when not available).
	SrcRoot string
	// Extra are config fragments merged after lkmtest's own (--kconfig,
	// then a spec's boot.config); they are part of the kernel's cache key.
	Extra []kbuild.Fragment
	// Variant names the Extra of a spec's boot.config in directory names
	// ("debug" gives 6.1.192-x86_64+debug; see VariantName).
	Variant string
	// Isolate runs every test in a VM of its own (--isolate); else a test
	// that passed and left the guest as it found it hands its VM to the
	// next test of the same target (see RunTest).
	Isolate bool
	// NoSnapshots turns VM snapshots off (LKMTEST_NO_SNAPSHOT).
	NoSnapshots bool
	// PCH is the lkmtest binary that compiles module sources with
	// precompiled headers (modbuild.Kernel.PCH), "" for plain compiles.
	PCH string
	// Standby: VMs are claimed from standbys, and the run's VMs want
	// standbys that wait this long (0: none; see boot.SpawnStandbys).
	Standby time.Duration
	// NoProbeMemo turns the memo of kbuild's compiler probes off
	// (LKMTEST_NO_PROBE_MEMO).
	NoProbeMemo bool
	// KernelMirror is the kernel.org download base URL
	// (LKMTEST_KERNEL_MIRROR; "": kbuild.DefaultMirror).
	KernelMirror string
	// DebianSrc holds Debian's linux-source tarballs (LKMTEST_DEBIAN_SRC;
	// "": kbuild.DebianSrcDir).
	DebianSrc string
	// AgentDir holds prebuilt guest agents, lkmtest-agent-<goarch>
	// (LKMTEST_AGENT_DIR; "": built from SrcRoot).
	AgentDir string
	// KernelRemote, if set, shares kernels through a registry
	// (--kernel-registry; see kbuild.Remote): a kernel the cache lacks is
	// pulled before it is built, needing no source tree when pulled.
	KernelRemote kbuild.Remote
}

func (o *Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

func (o *Options) verbose() io.Writer {
	if o.Verbose {
		return o.log()
	}
	return io.Discard
}
