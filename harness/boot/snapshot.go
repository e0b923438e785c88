package boot

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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

// guestStateFile holds, beside a snapshot, the guest's state
// (guest.OpState) as its VMs start: a session's Baseline.
const guestStateFile = "guest-state.json"

// ramFile is, beside a snapshot's state file, the guest's RAM: the saved
// VM ran with its RAM in this file (shared) and wrote none into the state
// file; a restored VM maps it copy-on-write. Its pages are read from the
// page cache, shared by every VM restored from the snapshot, rather than
// copied into fresh anonymous memory at each start (which the kernel
// must zero first, in 2 MiB pages under transparent huge pages).
const ramFile = "ram"

// snapshot returns the state file for VMs started with fns, saving it
// first when the cache has none. The boot's console log is saved beside it.
func (m *Machine) snapshot(ctx context.Context, fns []qemu.Fn) (dir string, err error) {
	key, err := m.snapshotKey(fns)
	if err != nil {
		return "", err
	}
	dir, _, err = m.Cache.Ensure(ctx, "snapshots", key, func(ctx context.Context, tmp string) error {
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
		// Created here, so that it is private to the user as the cache is.
		if err := os.WriteFile(filepath.Join(tmp, ramFile), nil, 0o600); err != nil {
			return err
		}
		all := append(append(m.quirkFns(), fns...), qemu.WithSocketDir(sock), qemu.WithConsole(console), qemu.WithTimeout(HelloTimeout),
			qemu.WithRAMFile(filepath.Join(tmp, ramFile), true))
		vm, err := qemu.Start(ctx, m.Arch, all...)
		if err != nil {
			return err
		}
		defer func() { vm.Stop(); vm.Wait() }()
		c := guest.NewClient(vm.Agent(), vm.Done(), nil)
		if _, err := c.Hello(ctx, HelloTimeout); err != nil {
			return fmt.Errorf("boot for a snapshot: %w (console: %s)", err, console.Name())
		}
		// The guest's state, as every VM restored from here starts.
		resp, err := c.Call(ctx, guest.Request{Op: guest.OpState, Aux: true}, HelloTimeout)
		if err != nil {
			return fmt.Errorf("guest state for a snapshot: %w", err)
		}
		if b, err := json.Marshal(resp.State); err == nil && resp.Error == "" {
			if err := os.WriteFile(filepath.Join(tmp, guestStateFile), b, 0o600); err != nil {
				return err
			}
		}
		return vm.SaveState(filepath.Join(tmp, "state"))
	})
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return dir, nil
}
