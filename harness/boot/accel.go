package boot

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/qemu"
)

// probeTimeout bounds the KVM trial boot.
const probeTimeout = 15 * time.Second

// Probe chooses m's accelerator for mode (auto, kvm, tcg): KVM only when
// the cheap checks pass and a trial boot of m's own kernel under KVM
// reaches init and powers off within probeTimeout. The answer of auto is
// remembered for this host boot (the kernel's boot_id).
func (m *Machine) Probe(ctx context.Context, mode string) (qemu.AccelChoice, error) {
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	key := cache.Key("accel/v1", strings.TrimSpace(string(bootID)), string(m.Arch), m.KernelKey)
	memo := filepath.Join(m.Cache.Root, "accel", key+".json")
	if mode == "auto" {
		var c qemu.AccelChoice
		if b, err := os.ReadFile(memo); err == nil && json.Unmarshal(b, &c) == nil {
			return c, nil
		}
	}
	trial := func(ctx context.Context) error {
		sock, err := socketDir("probe")
		if err != nil {
			return err
		}
		defer releaseSocketDir(sock)
		var console strings.Builder
		vm, err := qemu.Start(ctx, m.Arch, append(m.quirkFns(), qemu.WithAccel(qemu.AccelKVM), qemu.WithKernel(m.Image),
			qemu.WithInitramfs(m.Initramfs), qemu.WithSocketDir(sock), qemu.WithInitArgs("probe"),
			qemu.WithConsole(&console), qemu.WithTimeout(probeTimeout))...)
		if err != nil {
			return err
		}
		exit := vm.Wait()
		if !exit.Clean() || !strings.Contains(console.String(), "probe ok") {
			return fmt.Errorf("guest did not reach init and power off in %s (%s)", probeTimeout, exit)
		}
		return nil
	}
	c, err := qemu.ChooseAccel(ctx, mode, m.Arch, trial)
	if err != nil {
		return c, err
	}
	if mode == "auto" {
		if b, err := json.Marshal(c); err == nil && os.MkdirAll(filepath.Dir(memo), 0o700) == nil {
			_ = cache.WriteFileAtomic(memo, b, 0o600)
		}
	}
	return c, nil
}
