package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/qemu"
)

// Booting a kernel under TCG and starting the agent costs most of a warm
// run. A snapshot is the state of a VM saved right after its agent said
// hello (QEMU migration to a file); every test then starts from a copy of
// that state (-incoming), a fresh and identical VM, in a fraction of the
// boot time. Snapshots live in the cache, keyed by the QEMU binary, the
// initramfs content and the VM's command line (kernel, memory, CPUs,
// kernel arguments, quirks).

// snapshotsEnabled: TCG only (a KVM boot is fast anyway), and
// LKMTEST_NO_SNAPSHOT=1 turns them off.
func (t *Target) snapshotsEnabled() bool {
	return t.Accel.Accel == qemu.AccelTCG && os.Getenv("LKMTEST_NO_SNAPSHOT") == ""
}

// initrdDigest hashes the target's initramfs once.
func (t *Target) initrdDigest() (string, error) {
	t.digestOnce.Do(func() {
		f, err := os.Open(t.Initramfs)
		if err != nil {
			t.digestErr = err
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			t.digestErr = err
			return
		}
		t.digest = hex.EncodeToString(h.Sum(nil))
	})
	return t.digest, t.digestErr
}

// snapshotKey is the cache key of the snapshot for a VM started with fns.
func (t *Target) snapshotKey(fns []qemu.Fn) (string, error) {
	opts, err := qemu.NewOptions(t.Options.Arch, append(t.vmQuirks(), fns...)...)
	if err != nil {
		return "", err
	}
	id, err := cache.ToolID(opts.Binary())
	if err != nil {
		return "", fmt.Errorf("%s: %w", opts.Binary(), err)
	}
	digest, err := t.initrdDigest()
	if err != nil {
		return "", err
	}
	line := strings.Join(opts.Cmdline(), "\x00")
	line = strings.ReplaceAll(line, opts.SocketDir, "<sockets>")
	line = strings.ReplaceAll(line, t.Initramfs, "<initramfs>")
	return cache.Key("snapshot/v1", id, digest, line), nil
}

// snapshot returns the state file for VMs started with fns, saving it
// first when the cache has none. The boot's console log is saved beside it.
func (t *Target) snapshot(ctx context.Context, fns []qemu.Fn) (dir string, err error) {
	key, err := t.snapshotKey(fns)
	if err != nil {
		return "", err
	}
	dir, _, err = t.Options.Cache.Ensure(ctx, "snapshots", key, func(ctx context.Context, tmp string) error {
		console, err := cache.Create(filepath.Join(tmp, "console.log"))
		if err != nil {
			return err
		}
		defer console.Close()
		sock, err := socketDir("snap")
		if err != nil {
			return err
		}
		defer releaseSocketDir(sock)
		all := append(append(t.vmQuirks(), fns...), qemu.WithSocketDir(sock), qemu.WithConsole(console), qemu.WithTimeout(bootTimeout))
		vm, err := qemu.Start(ctx, t.Options.Arch, all...)
		if err != nil {
			return err
		}
		defer func() { vm.Stop(); vm.Wait() }()
		sess := newSession(vm, nil)
		var hello guest.Hello
		if err := sess.next(ctx, &hello, bootTimeout); err != nil {
			return fmt.Errorf("boot for a snapshot: %w (console: %s)", err, console.Name())
		}
		if hello.Error != "" {
			return fmt.Errorf("boot for a snapshot: agent: %s", hello.Error)
		}
		return vm.SaveState(filepath.Join(tmp, "state"))
	})
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return dir, nil
}
