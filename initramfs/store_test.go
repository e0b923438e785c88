package initramfs

import (
	"github.com/lkmtest/lkmtest/harness/cache"
)

// Callers pass their *cache.Dir.
var _ Store = (*cache.Dir)(nil)
