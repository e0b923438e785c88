package qemu

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
)

// Accel is a QEMU accelerator.
type Accel string

// The accelerators lkmtest uses.
const (
	AccelTCG Accel = "tcg"
	AccelKVM Accel = "kvm"
)

// Options describes one VM. The zero value plus Kernel and Initramfs boots.
type Options struct {
	// Arch is the guest architecture.
	Arch arch.Arch
	// Accel is the accelerator (default TCG).
	Accel Accel
	// Kernel is the kernel image to boot.
	Kernel string
	// Initramfs is the initramfs (cpio) to boot with.
	Initramfs string
	// Append holds extra kernel command-line arguments.
	Append []string
	// InitArgs are passed to /init after "--" on the kernel command line.
	InitArgs []string
	// MemoryMiB is the guest memory size (default 256).
	MemoryMiB int
	// CPUs is the number of virtual CPUs (default 1).
	CPUs int
	// CPU replaces the arch table's -cpu model under TCG ("" keeps it).
	CPU string
	// NoPanicDevice leaves out the pvpanic-pci device (for kernels without
	// its driver; a panic still ends the VM through panic=-1 -no-reboot).
	NoPanicDevice bool
	// SocketDir holds the QMP and agent sockets; it must be short (unix
	// socket paths are limited to 107 bytes).
	SocketDir string
	// Agent adds the virtio-serial port "lkmtest" for the guest agent.
	Agent bool
	// Console receives the raw serial console output.
	Console io.Writer
	// Stdin is the serial console's input (nil: none).
	Stdin io.Reader
	// Timeout stops the VM when it runs longer (0: no limit).
	Timeout time.Duration
	// Incoming restores the VM from a state file written by VM.SaveState
	// (QEMU -incoming); the other options must match those it was saved with.
	Incoming string
	// RAMFile backs the guest's RAM with a file (memory-backend-file)
	// instead of anonymous memory. RAMShared maps it shared: what the
	// guest writes lands in the file, and a VM saved so writes no RAM into
	// its state file (migration capability x-ignore-shared). Not shared, it
	// is a private copy-on-write mapping: a VM restored with the state file
	// and the RAM file of a VM saved so reads its RAM from the page cache
	// and copies only the pages it writes.
	RAMFile   string
	RAMShared bool
}

// Fn changes Options; it is the functional-option form used by Start.
type Fn func(*Options) error

// WithKernel sets the kernel image.
func WithKernel(path string) Fn { return func(o *Options) error { o.Kernel = path; return nil } }

// WithInitramfs sets the initramfs.
func WithInitramfs(path string) Fn { return func(o *Options) error { o.Initramfs = path; return nil } }

// WithAccel sets the accelerator.
func WithAccel(a Accel) Fn { return func(o *Options) error { o.Accel = a; return nil } }

// WithAppend adds kernel command-line arguments.
func WithAppend(args ...string) Fn {
	return func(o *Options) error { o.Append = append(o.Append, args...); return nil }
}

// WithInitArgs sets the arguments passed to /init.
func WithInitArgs(args ...string) Fn {
	return func(o *Options) error { o.InitArgs = append(o.InitArgs, args...); return nil }
}

// WithMemory sets the guest memory in MiB.
func WithMemory(mib int) Fn { return func(o *Options) error { o.MemoryMiB = mib; return nil } }

// WithIncoming restores the VM from a state file saved by VM.SaveState
// instead of booting it.
func WithIncoming(stateFile string) Fn {
	return func(o *Options) error { o.Incoming = stateFile; return nil }
}

// WithRAMFile backs the guest's RAM with the file at path, shared or
// copy-on-write (see Options.RAMFile).
func WithRAMFile(path string, shared bool) Fn {
	return func(o *Options) error { o.RAMFile, o.RAMShared = path, shared; return nil }
}

// WithCPUModel replaces the arch's -cpu model under TCG ("" keeps it).
func WithCPUModel(model string) Fn { return func(o *Options) error { o.CPU = model; return nil } }

// WithoutPanicDevice leaves out the pvpanic-pci device.
func WithoutPanicDevice() Fn { return func(o *Options) error { o.NoPanicDevice = true; return nil } }

// WithCPUs sets the number of virtual CPUs.
func WithCPUs(n int) Fn { return func(o *Options) error { o.CPUs = n; return nil } }

// WithSocketDir sets the directory for the QMP and agent sockets.
func WithSocketDir(dir string) Fn { return func(o *Options) error { o.SocketDir = dir; return nil } }

// WithAgent adds the virtio-serial channel of the guest agent.
func WithAgent() Fn { return func(o *Options) error { o.Agent = true; return nil } }

// WithConsole copies the raw serial console to w.
func WithConsole(w io.Writer) Fn { return func(o *Options) error { o.Console = w; return nil } }

// WithStdin feeds r to the serial console's input (QEMU's standard
// input). Give an *os.File (a pipe's read end): QEMU then reads it
// directly and the VM's end never waits on a copy from r.
func WithStdin(r io.Reader) Fn { return func(o *Options) error { o.Stdin = r; return nil } }

// WithTimeout stops the VM after d.
func WithTimeout(d time.Duration) Fn { return func(o *Options) error { o.Timeout = d; return nil } }

// NewOptions applies fns to the defaults for arch.
func NewOptions(a arch.Arch, fns ...Fn) (*Options, error) {
	if _, err := arch.Parse(string(a)); err != nil {
		return nil, err
	}
	o := &Options{Arch: a, Accel: AccelTCG, MemoryMiB: 256, CPUs: 1}
	for _, fn := range fns {
		if err := fn(o); err != nil {
			return nil, err
		}
	}
	if o.Kernel == "" {
		return nil, fmt.Errorf("qemu: no kernel image given")
	}
	if o.SocketDir == "" {
		return nil, fmt.Errorf("qemu: no socket directory given")
	}
	return o, nil
}

// qmpSocket is the path of the QMP monitor socket.
func (o *Options) qmpSocket() string { return filepath.Join(o.SocketDir, "qmp.sock") }

// agentSocket is the path of the guest agent's channel socket.
func (o *Options) agentSocket() string { return filepath.Join(o.SocketDir, "agent.sock") }

// Binary is the emulator that Cmdline runs (the arch table's).
func (o *Options) Binary() string { return o.Arch.Spec().QEMU }

// kernelCmdline is the kernel command line the VM boots with.
func (o *Options) kernelCmdline() string {
	spec := o.Arch.Spec()
	args := []string{"console=" + spec.Console, "panic=-1", "printk.devkmsg=on"}
	args = append(args, o.Append...)
	if len(o.InitArgs) > 0 {
		args = append(args, "--")
		args = append(args, o.InitArgs...)
	}
	return strings.Join(args, " ")
}

// Cmdline is the full argv of the VM; it has no side effects.
func (o *Options) Cmdline() []string {
	spec := o.Arch.Spec()
	machine := spec.Machine
	if o.RAMFile != "" {
		machine += ",memory-backend=" + ramID
	}
	args := []string{o.Binary(),
		"-machine", machine,
		"-accel", string(o.Accel),
	}
	switch {
	case o.Accel == AccelKVM:
		args = append(args, "-cpu", "host")
	case o.CPU != "":
		args = append(args, "-cpu", o.CPU)
	case spec.CPU != "":
		args = append(args, "-cpu", spec.CPU)
	}
	args = append(args,
		"-m", strconv.Itoa(o.MemoryMiB),
	)
	if o.RAMFile != "" {
		share := "off"
		if o.RAMShared {
			share = "on"
		}
		args = append(args, "-object", fmt.Sprintf("memory-backend-file,id=%s,size=%dM,mem-path=%s,share=%s", ramID, o.MemoryMiB, o.RAMFile, share))
	}
	args = append(args,
		"-smp", strconv.Itoa(o.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-no-reboot",
		"-action", "panic=exit-failure",
	)
	if !o.NoPanicDevice {
		args = append(args, "-device", "pvpanic-pci")
	}
	// Entropy from the host (/dev/urandom): the guest's RNG is seeded at
	// boot, so %p hashes pointers and getrandom() does not block.
	args = append(args, "-device", "virtio-rng-pci")
	args = append(args,
		"-chardev", "stdio,id=con,signal=off",
		"-serial", "chardev:con",
		"-qmp", "unix:"+o.qmpSocket()+",server=on,wait=off",
		"-S",
	)
	if o.Agent {
		args = append(args,
			"-device", "virtio-serial-pci",
			"-chardev", "socket,id=agent,path="+o.agentSocket()+",server=on,wait=off",
			"-device", "virtserialport,chardev=agent,name=lkmtest",
		)
	}
	args = append(args, "-kernel", o.Kernel)
	if o.Initramfs != "" {
		args = append(args, "-initrd", o.Initramfs)
	}
	args = append(args, "-append", o.kernelCmdline())
	switch {
	case o.Incoming != "" && o.RAMFile != "":
		// Start sets x-ignore-shared first, then has QEMU read fd 3.
		args = append(args, "-incoming", "defer")
	case o.Incoming != "":
		// Start opens the state file as the child's descriptor 3:
		// QEMU reads it directly, with no shell and cat in between.
		args = append(args, "-incoming", incomingFD)
	}
	return args
}

// ramID is the id of the memory backend of Options.RAMFile.
const ramID = "lkmtest.ram"

// incomingFD is -incoming's source: the state file, opened by Start as
// the child's first extra descriptor.
const incomingFD = "fd:3"

// CmdlineQuoted is Cmdline as one shell-quoted string, for copy and paste:
// a restore reads the state file by name (exec:cat) rather than from the
// descriptor Start opens.
func (o *Options) CmdlineQuoted() string {
	argv := o.Cmdline()
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == incomingFD && i > 0 && argv[i-1] == "-incoming" {
			a = "exec:cat " + shellQuote(o.Incoming)
		}
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

// RestoreSteps is, for a restore with a RAM file (-incoming defer), what
// to send on the QMP socket of CmdlineQuoted's line to restore the VM as
// Start does; "" when the line restores by itself.
func (o *Options) RestoreSteps() string {
	if o.Incoming == "" || o.RAMFile == "" {
		return ""
	}
	return `{"execute":"qmp_capabilities"}` + "\n" + ignoreSharedCmd + "\n" +
		migrateCmd("migrate-incoming", "exec:cat "+shellQuote(o.Incoming)) + "\n" + `{"execute":"cont"}` + "\n"
}

// migrateCmd is the QMP command migrate or migrate-incoming with uri.
func migrateCmd(op, uri string) string {
	b, _ := json.Marshal(map[string]any{"execute": op, "arguments": map[string]string{"uri": uri}})
	return string(b)
}

// ignoreSharedCmd sets the migration capability x-ignore-shared: RAM in a
// shared file is neither written to nor read from the migration stream.
const ignoreSharedCmd = `{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"x-ignore-shared","state":true}]}}`

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ',' || r == ':' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
