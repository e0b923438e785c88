package qemu

import (
	"os/exec"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/hostdeps"
)

// CheckInstalled reports, with the install command, when the emulator of
// a is not on the PATH.
func CheckInstalled(a arch.Arch) error {
	s := a.Spec()
	if _, err := exec.LookPath(s.QEMU); err != nil {
		return &hostdeps.MissingTool{Tool: s.QEMU, Package: s.DebianQEMU, Err: err}
	}
	return nil
}
