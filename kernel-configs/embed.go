// Package kernelconfigs holds the Kconfig fragments lkmtest builds its
// kernels from: base.config for every kernel, then <arch>.config. They are
// merged onto allnoconfig, so every option a test needs must be named here or
// in a test's own fragment.
package kernelconfigs

import (
	"embed"
	"fmt"
)

//go:embed *.config
var files embed.FS

// Read returns the fragment called name ("base.config").
func Read(name string) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("kernel-configs: no fragment %q: %w", name, err)
	}
	return string(b), nil
}
