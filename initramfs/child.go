package initramfs

import (
	_ "embed"
)

// The guest's own C programs, compiled for each arch by the pipeline
// (modbuild.StaticC) and packed by Assemble.
var (
	// ChildSource is the module helper (child/lkmtest-child.c), installed
	// as HelperDir/ChildName.
	//go:embed child/lkmtest-child.c
	ChildSource []byte
	// ChrtSource is the guest's chrt (child/chrt.c: Debian's busybox has
	// none), installed as bin/chrt.
	//go:embed child/chrt.c
	ChrtSource []byte
)

// ChildName is the module helper's file name in HelperDir.
const ChildName = "lkmtest-child"
