package arch

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Arch{"x86_64": X86_64, "amd64": X86_64, "X86-64": X86_64, " arm64": ARM64, "aarch64": ARM64} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := Parse("riscv64")
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Parse(riscv64): %v, want ErrUnsupported", err)
	}
	if want := `unsupported architecture "riscv64" (valid: arm64, x86_64)`; err.Error() != want {
		t.Errorf("Parse(riscv64) error %q, want %q", err, want)
	}
}

func TestForGOARCH(t *testing.T) {
	if a, err := ForGOARCH("amd64"); err != nil || a != X86_64 {
		t.Errorf("ForGOARCH(amd64) = %q, %v", a, err)
	}
	if a, err := ForGOARCH("arm64"); err != nil || a != ARM64 {
		t.Errorf("ForGOARCH(arm64) = %q, %v", a, err)
	}
	// A host the table lacks is an error, not x86_64.
	if a, err := ForGOARCH("riscv64"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ForGOARCH(riscv64) = %q, %v; want ErrUnsupported", a, err)
	}
}

func TestTableComplete(t *testing.T) {
	for _, a := range All() {
		s := a.Spec()
		for name, v := range map[string]string{"GOARCH": s.GOARCH, "Debian": s.Debian, "KernelArch": s.KernelArch, "CrossCompile": s.CrossCompile,
			"CrossCC": s.CrossCC, "ConfigFragment": s.ConfigFragment, "Image": s.Image, "ImageTarget": s.ImageTarget,
			"QEMU": s.QEMU, "Machine": s.Machine, "Console": s.Console, "DebianQEMU": s.DebianQEMU,
			"DebianCross": s.DebianCross, "DebianCrossLibc": s.DebianCrossLibc} {
			if v == "" {
				t.Errorf("%s: %s is empty", a, name)
			}
		}
	}
}
