package qemu

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lkmtest/lkmtest/harness/arch"
)

func argAfter(argv []string, flag string) []string {
	var out []string
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == flag {
			out = append(out, argv[i+1])
		}
	}
	return out
}

func TestCmdline(t *testing.T) {
	cases := []struct {
		name string
		arch arch.Arch
		fns  []Fn
		want map[string][]string // flag -> values, in order
		kcmd string
	}{
		{
			name: "x86_64 defaults with agent",
			arch: arch.X86_64,
			fns:  []Fn{WithKernel("/k/bzImage"), WithInitramfs("/i.cpio"), WithSocketDir("/s"), WithAgent()},
			want: map[string][]string{
				"-machine": {"q35"}, "-accel": {"tcg"}, "-m": {"256"}, "-smp": {"1"},
				"-kernel": {"/k/bzImage"}, "-initrd": {"/i.cpio"}, "-action": {"panic=exit-failure"},
				"-device": {"pvpanic-pci", "virtio-rng-pci", "virtio-serial-pci", "virtserialport,chardev=agent,name=lkmtest"},
				"-qmp":    {"unix:/s/qmp.sock,server=on,wait=off"},
			},
			kcmd: "console=ttyS0 panic=-1 printk.devkmsg=on",
		},
		{
			name: "arm64 with memory, cpus, cmdline and init args",
			arch: arch.ARM64,
			fns: []Fn{WithKernel("/k/Image"), WithSocketDir("/s"), WithMemory(512), WithCPUs(2),
				WithAppend("nokaslr"), WithInitArgs("probe")},
			want: map[string][]string{"-machine": {"virt"}, "-cpu": {"max"}, "-m": {"512"}, "-smp": {"2"}, "-device": {"pvpanic-pci", "virtio-rng-pci"}},
			kcmd: "console=ttyAMA0 panic=-1 printk.devkmsg=on nokaslr -- probe",
		},
		{
			name: "old arm64 kernel: cpu model override, no pvpanic",
			arch: arch.ARM64,
			fns:  []Fn{WithKernel("/k/Image"), WithSocketDir("/s"), WithCPUModel("max,lpa2=off"), WithoutPanicDevice(), WithAgent()},
			want: map[string][]string{"-cpu": {"max,lpa2=off"}, "-device": {"virtio-rng-pci", "virtio-serial-pci", "virtserialport,chardev=agent,name=lkmtest"}},
			kcmd: "console=ttyAMA0 panic=-1 printk.devkmsg=on",
		},
		{
			name: "kvm uses the host cpu",
			arch: arch.X86_64,
			fns:  []Fn{WithKernel("k"), WithSocketDir("/s"), WithAccel(AccelKVM)},
			want: map[string][]string{"-accel": {"kvm"}, "-cpu": {"host"}},
			kcmd: "console=ttyS0 panic=-1 printk.devkmsg=on",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := NewOptions(c.arch, c.fns...)
			if err != nil {
				t.Fatal(err)
			}
			argv := o.Cmdline()
			if argv[0] != c.arch.Spec().QEMU {
				t.Errorf("binary = %q", argv[0])
			}
			for flag, want := range c.want {
				if got := argAfter(argv, flag); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s = %q, want %q", flag, got, want)
				}
			}
			for _, f := range []string{"-no-reboot", "-nodefaults", "-S"} {
				if len(argAfter(append(argv, ""), f)) == 0 {
					t.Errorf("missing %s", f)
				}
			}
			if got := argAfter(argv, "-append"); len(got) != 1 || got[0] != c.kcmd {
				t.Errorf("-append = %q, want %q", got, c.kcmd)
			}
		})
	}
}

func TestNewOptionsErrors(t *testing.T) {
	if _, err := NewOptions(arch.X86_64, WithSocketDir("/s")); err == nil {
		t.Error("no kernel: want an error")
	}
	if _, err := NewOptions("sparc", WithKernel("k"), WithSocketDir("/s")); !errors.Is(err, arch.ErrUnsupported) {
		t.Errorf("unknown arch: err = %v", err)
	}
}

func TestCmdlineQuoted(t *testing.T) {
	o, _ := NewOptions(arch.X86_64, WithKernel("/a b/bzImage"), WithSocketDir("/s"), WithAppend("x='1'"))
	q := o.CmdlineQuoted()
	if !strings.Contains(q, `-kernel '/a b/bzImage'`) || !strings.Contains(q, `x='\''1'\''`) {
		t.Errorf("CmdlineQuoted = %s", q)
	}
}

func TestCleanLine(t *testing.T) {
	for in, want := range map[string]string{
		"c\x1b[?7l\x1b[2JHello\r\n": "cHello",
		"[    1.0] tab\tok\x07\n":   "[    1.0] tab\tok",
	} {
		if got := CleanLine(in); got != want {
			t.Errorf("CleanLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChooseAccel(t *testing.T) {
	ctx := context.Background()
	c, err := ChooseAccel(ctx, "tcg", arch.X86_64, nil)
	if err != nil || c.Accel != AccelTCG {
		t.Errorf("tcg: %+v %v", c, err)
	}
	// arm64 on an x86_64 host (or the reverse) can never use KVM.
	host, err := arch.Host()
	if err != nil {
		t.Fatal(err)
	}
	foreign := arch.ARM64
	if host == arch.ARM64 {
		foreign = arch.X86_64
	}
	called := false
	c, err = ChooseAccel(ctx, "auto", foreign, func(context.Context) error { called = true; return nil })
	if err != nil || c.Accel != AccelTCG || called || !strings.Contains(c.Reason, "differs from host") {
		t.Errorf("auto on a foreign arch: %+v, %v, trial called %v", c, err, called)
	}
	if _, err := ChooseAccel(ctx, "kvm", foreign, nil); err == nil {
		t.Error("--accel kvm on a foreign arch: want an error")
	}
	if _, err := ChooseAccel(ctx, "fast", arch.X86_64, nil); err == nil {
		t.Error("invalid mode: want an error")
	}
	// When the cheap checks pass, a failing trial falls back to TCG. Where
	// they fail, the trial is never made: that case says so, as a skip,
	// rather than passing without a check.
	t.Run("failed trial", func(t *testing.T) {
		if err := KVMUsable(host); err != nil {
			t.Skipf("KVM fails the cheap checks here, so no trial is made: %v", err)
		}
		c, _ := ChooseAccel(ctx, "auto", host, func(context.Context) error { return errors.New("hung") })
		if c.Accel != AccelTCG || !strings.Contains(c.Reason, "trial boot failed: hung") {
			t.Errorf("failed trial: %+v", c)
		}
	})
}

func TestHasFlag(t *testing.T) {
	info := "processor: 0\nflags\t\t: fpu vme vmx sse\n"
	if !hasFlag(info, "vmx") || hasFlag(info, "svm") || hasFlag(info, "vm") {
		t.Error("hasFlag does not match whole flags")
	}
}

// A restore with the guest's RAM in a file maps it copy-on-write, waits
// (-incoming defer) for Start to set x-ignore-shared and start reading
// descriptor 3, and RestoreSteps says how to do that by hand; a VM to be
// saved maps it shared.
func TestRAMFileCmdline(t *testing.T) {
	for _, a := range []arch.Arch{arch.X86_64, arch.ARM64} {
		o, err := NewOptions(a, WithKernel("/k"), WithSocketDir("/s"), WithMemory(128), WithIncoming("/snap/state"), WithRAMFile("/snap/ram", false))
		if err != nil {
			t.Fatal(err)
		}
		argv := strings.Join(o.Cmdline(), " ")
		for _, want := range []string{
			"-machine " + a.Spec().Machine + ",memory-backend=lkmtest.ram ",
			"-m 128 -object memory-backend-file,id=lkmtest.ram,size=128M,mem-path=/snap/ram,share=off ",
		} {
			if !strings.Contains(argv, want) {
				t.Errorf("%s: argv %q lacks %q", a, argv, want)
			}
		}
		if !strings.HasSuffix(argv, "-incoming defer") {
			t.Errorf("%s: argv ends %q, want -incoming defer", a, argv[max(0, len(argv)-40):])
		}
		steps := strings.Split(strings.TrimSpace(o.RestoreSteps()), "\n")
		if len(steps) != 4 || !strings.Contains(steps[1], `"x-ignore-shared","state":true`) || !strings.Contains(steps[2], `"uri":"exec:cat /snap/state"`) || steps[3] != `{"execute":"cont"}` {
			t.Errorf("%s: RestoreSteps %q", a, steps)
		}
	}
	o, err := NewOptions(arch.X86_64, WithKernel("/k"), WithSocketDir("/s"), WithRAMFile("/snap/ram", true))
	if err != nil {
		t.Fatal(err)
	}
	if argv := strings.Join(o.Cmdline(), " "); !strings.Contains(argv, "mem-path=/snap/ram,share=on") || strings.Contains(argv, "-incoming") || o.RestoreSteps() != "" {
		t.Errorf("a VM to save: argv %q, RestoreSteps %q", argv, o.RestoreSteps())
	}
}

// A restore reads the state from descriptor 3, and the copy-and-paste line
// names the file instead.
func TestIncomingCmdline(t *testing.T) {
	o, err := NewOptions(arch.X86_64, WithKernel("/k"), WithSocketDir("/s"), WithIncoming("/snap/it's state"))
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Join(o.Cmdline(), " ")
	if !strings.HasSuffix(argv, "-incoming fd:3") {
		t.Errorf("argv ends %q, want -incoming fd:3", argv[max(0, len(argv)-40):])
	}
	if q := o.CmdlineQuoted(); !strings.Contains(q, "-incoming 'exec:cat ") || !strings.Contains(q, "/snap/it") || strings.Contains(q, "fd:3") {
		t.Errorf("quoted line %q does not name the state file", q)
	}
	if o.RestoreSteps() != "" || strings.Contains(strings.Join(o.Cmdline(), " "), "memory-backend") {
		t.Errorf("a restore without a RAM file: RestoreSteps %q, argv %q", o.RestoreSteps(), o.Cmdline())
	}
}
