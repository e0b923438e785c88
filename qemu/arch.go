package qemu

import (
	"fmt"
	"os/exec"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// CheckInstalled reports, with the install command, when the emulator of
// a is not on the PATH.
func CheckInstalled(a arch.Arch) error {
	s := a.Spec()
	if _, err := exec.LookPath(s.QEMU); err != nil {
		return fmt.Errorf("%s not found: install it with 'apt-get install %s' (or run 'make deps')", s.QEMU, s.DebianQEMU)
	}
	return nil
}
