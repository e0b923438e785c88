package boot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/quirk"
	"github.com/lkmtest/lkmtest/qemu"
)

// HelloTimeout bounds the time from QEMU's start to the agent's hello.
const HelloTimeout = 60 * time.Second

// Machine is what every VM of one target shares: the guest's arch, kernel,
// initramfs, accelerator and quirks.
type Machine struct {
	Arch arch.Arch
	// Image is the kernel's boot image; KernelKey the kernel's cache key.
	Image, KernelKey string
	// Initramfs is the assembled image; InitramfsKey, when set, names its
	// content (a cache key of its inputs), else it is hashed once.
	Initramfs, InitramfsKey string
	// Accel is the accelerator (see Probe).
	Accel qemu.AccelChoice
	// Quirks are the quirk table's effects for the kernel and arch.
	Quirks quirk.Set
	// Cache holds snapshots and the accelerator memo.
	Cache *cache.Dir
	// NoSnapshots turns snapshots off (they are used under TCG only).
	NoSnapshots bool
	// Log receives notes (a snapshot that did not restore).
	Log io.Writer
	// Standby, when set, is how long the standby VM a run leaves for the
	// next (see SpawnStandbys) waits to be claimed; a VM is then claimed
	// from the standby when there is one (see standby.go).
	Standby time.Duration

	digestOnce sync.Once
	digest     string
	digestErr  error
}

// Config is one VM's own settings.
type Config struct {
	// Dir is the run directory (console.log, agent.log, qemu.cmdline,
	// qemu.exit are written there).
	Dir string
	// Console also receives the serial console when set.
	Console io.Writer
	// Stdin feeds the serial console (interactive shells).
	Stdin io.Reader
	// Memory is -m in MiB, CPUs -smp (0: qemu package defaults).
	Memory, CPUs int
	// Cmdline are extra kernel arguments.
	Cmdline []string
	// Timeout is the VM's own backstop (0: none).
	Timeout time.Duration
}

// VM is a running guest as a session needs it; *qemu.VM is one, and tests
// give fakes.
type VM interface {
	Agent() net.Conn
	Done() <-chan struct{}
	Stop()
	Wait() qemu.Exit
}

// Session is a started VM and its agent's client.
type Session struct {
	VM VM
	// Guest calls the agent.
	Guest *guest.Client
	// Restored: the VM came from a snapshot, taken after the agent's
	// hello (Hello then returns at once).
	Restored bool
	// Console is console.log's path.
	Console string
	// Baseline is the guest's state as it started (guest.OpState), when
	// known without asking: saved with its snapshot.
	Baseline map[string]string
	// Standby: the VM was a standby's (restored and warmed up by another
	// process), and Early is that warm-up's answer (its records are the
	// first step's).
	Standby bool
	Early   *guest.Response

	dir     string
	console *switchWriter // the console's destination (nil for fakes)
	files   []io.Closer
	release func()
	closed  bool
}

// NewSession makes the session of a started vm whose console is written
// to dir/console.log (tests give fake VMs); closers are closed by Close.
func NewSession(vm VM, dir string, restored bool, closers ...io.Closer) *Session {
	s := &Session{VM: vm, Restored: restored, Console: filepath.Join(dir, "console.log"), dir: dir, files: closers}
	var tr *guest.TranscriptWriter
	if f, err := cache.Create(filepath.Join(dir, "agent.log")); err == nil {
		s.files = append(s.files, f)
		tr = guest.NewTranscriptWriter(f)
	}
	s.Guest = guest.NewClient(vm.Agent(), vm.Done(), tr)
	return s
}

// Adopt moves the session to dir, for the next test of a VM that has run
// one: that test's console.log and agent.log start now (extra, when set,
// also receives the console), its qemu.cmdline is the VM's, and the
// previous directory's qemu.exit says where the VM went.
func (s *Session) Adopt(dir string, extra io.Writer) error {
	console, err := cache.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		return err
	}
	f, err := cache.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		console.Close()
		return err
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "qemu.cmdline")); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "qemu.cmdline"), b, 0o600)
	}
	_ = os.WriteFile(filepath.Join(s.dir, "qemu.exit"), []byte("still running: the VM went on to the next test, "+dir+"\n"), 0o600)
	var out io.Writer = console
	if extra != nil {
		out = io.MultiWriter(console, extra)
	}
	if s.console != nil {
		s.console.set(out)
	}
	s.Guest.SetTranscript(guest.NewTranscriptWriter(f))
	for _, c := range s.files {
		c.Close()
	}
	s.files = []io.Closer{console, f}
	s.dir, s.Console = dir, console.Name()
	return nil
}

// switchWriter writes to a writer that Adopt can replace.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (w *switchWriter) set(to io.Writer) {
	w.mu.Lock()
	w.w = to
	w.mu.Unlock()
}

// Hello waits for the agent's hello (at once for a restored VM).
func (s *Session) Hello(ctx context.Context) error {
	if s.Restored {
		return nil
	}
	_, err := s.Guest.Hello(ctx, HelloTimeout)
	return err
}

// Close stops the VM, waits for QEMU, writes qemu.exit and returns how
// QEMU ended. It may be called more than once.
func (s *Session) Close() qemu.Exit {
	s.VM.Stop()
	exit := s.VM.Wait()
	if !s.closed {
		s.closed = true
		_ = os.WriteFile(filepath.Join(s.dir, "qemu.exit"), []byte(exit.String()+"\n"), 0o600)
		for _, f := range s.files {
			f.Close()
		}
		if s.release != nil {
			s.release()
		}
	}
	return exit
}

// Start starts a VM of m with cfg: from the snapshot of that command line
// when snapshots are on (the snapshot's boot log then opens console.log),
// else by booting. The command line is written to qemu.cmdline.
func (m *Machine) Start(ctx context.Context, cfg Config) (*Session, error) {
	console, err := cache.Create(filepath.Join(cfg.Dir, "console.log"))
	if err != nil {
		return nil, err
	}
	var out io.Writer = console
	if cfg.Console != nil {
		out = io.MultiWriter(console, cfg.Console)
	}
	sw := &switchWriter{w: out}
	sock, err := socketDir("vm")
	if err != nil {
		console.Close()
		return nil, err
	}
	fns := []qemu.Fn{
		qemu.WithKernel(m.Image), qemu.WithInitramfs(m.Initramfs), qemu.WithAccel(m.Accel.Accel),
		qemu.WithSocketDir(sock), qemu.WithAgent(), qemu.WithConsole(sw),
		qemu.WithMemory(cfg.Memory), qemu.WithCPUs(cfg.CPUs), qemu.WithAppend(cfg.Cmdline...),
	}
	if cfg.Stdin != nil {
		fns = append(fns, qemu.WithStdin(cfg.Stdin))
	}
	if cfg.Timeout > 0 {
		fns = append(fns, qemu.WithTimeout(cfg.Timeout))
	}
	vm, snap, standby, err := m.start(ctx, fns, cfg, console)
	if err != nil {
		console.Close()
		releaseSocketDir(sock)
		return nil, fmt.Errorf("boot: %w", err)
	}
	s := NewSession(vm, cfg.Dir, snap != "", console)
	if standby != nil {
		s.Standby, s.Early = true, &standby.Early
	}
	if b, err := os.ReadFile(filepath.Join(snap, guestStateFile)); snap != "" && err == nil {
		_ = json.Unmarshal(b, &s.Baseline)
	}
	s.console = sw
	s.release = func() { releaseSocketDir(sock) }
	return s, nil
}

// start starts the VM, restored from a snapshot when it can: snap is then
// the snapshot's directory, and standby is set when the VM was a standby's.
func (m *Machine) start(ctx context.Context, fns []qemu.Fn, cfg Config, console *os.File) (vm *qemu.VM, snap string, standby *standbyHeader, err error) {
	dir := cfg.Dir
	if m.Snapshots() {
		snap, err := m.snapshot(ctx, fns)
		if err == nil {
			restoreFns := append(append(m.quirkFns(), fns...), qemu.WithIncoming(filepath.Join(snap, "state")),
				qemu.WithRAMFile(filepath.Join(snap, ramFile), false))
			if b, rerr := os.ReadFile(filepath.Join(snap, "console.log")); rerr == nil {
				_, _ = console.Write(b)
			}
			key := filepath.Base(snap)
			if m.Standby > 0 && cfg.Stdin == nil {
				m.wantStandby(key, snap, cfg)
				if vm, h := m.claimStandby(ctx, key, restoreFns); vm != nil {
					writeCmdline(dir, m.Arch, append(restoreFns, qemu.WithSocketDir(h.Handoff.SocketDir)))
					_, _ = console.Write(h.Console)
					return vm, snap, h, nil
				}
			}
			writeCmdline(dir, m.Arch, restoreFns)
			vm, err = qemu.Start(ctx, m.Arch, restoreFns...)
			if err == nil {
				return vm, snap, nil, nil
			}
			// A snapshot that does not restore (a damaged file, a QEMU
			// that changed in place) is dropped; the next run saves anew.
			_ = cache.RemoveAll(snap)
			_ = console.Truncate(0)
			_, _ = console.Seek(0, io.SeekStart)
		}
		if ctx.Err() != nil {
			return nil, "", nil, ctx.Err()
		}
		if m.Log != nil {
			fmt.Fprintf(m.Log, "%s: %v; booting instead\n", filepath.Base(filepath.Dir(dir)), err)
		}
	}
	all := append(m.quirkFns(), fns...)
	writeCmdline(dir, m.Arch, all)
	vm, err = qemu.Start(ctx, m.Arch, all...)
	return vm, "", nil, err
}

func writeCmdline(dir string, a arch.Arch, fns []qemu.Fn) {
	if opts, err := qemu.NewOptions(a, fns...); err == nil {
		line := opts.CmdlineQuoted() + "\n"
		if steps := opts.RestoreSteps(); steps != "" {
			line += "# QEMU waits for the restore (-incoming defer): send its QMP socket these lines, e.g. with socat - UNIX-CONNECT:<socket>\n# " +
				strings.ReplaceAll(strings.TrimSuffix(steps, "\n"), "\n", "\n# ") + "\n"
		}
		_ = os.WriteFile(filepath.Join(dir, "qemu.cmdline"), []byte(line), 0o600)
	}
}

// quirkFns are the QEMU options the quirk table asks for.
func (m *Machine) quirkFns() []qemu.Fn {
	fns := []qemu.Fn{qemu.WithCPUModel(m.Quirks.CPU)}
	if m.Quirks.NoPanicDevice {
		fns = append(fns, qemu.WithoutPanicDevice())
	}
	return fns
}

// Snapshots: TCG only (a KVM boot is fast anyway).
func (m *Machine) Snapshots() bool {
	return m.Accel.Accel == qemu.AccelTCG && !m.NoSnapshots
}

// initrdDigest hashes the initramfs once.
func (m *Machine) initrdDigest() (string, error) {
	m.digestOnce.Do(func() {
		if m.InitramfsKey != "" {
			m.digest = m.InitramfsKey
			return
		}
		f, err := os.Open(m.Initramfs)
		if err != nil {
			m.digestErr = err
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			m.digestErr = err
			return
		}
		m.digest = hex.EncodeToString(h.Sum(nil))
	})
	return m.digest, m.digestErr
}

// snapshotKey is the cache key of the snapshot for a VM started with fns.
func (m *Machine) snapshotKey(fns []qemu.Fn) (string, error) {
	opts, err := qemu.NewOptions(m.Arch, append(m.quirkFns(), fns...)...)
	if err != nil {
		return "", err
	}
	id, err := cache.ToolID(opts.Binary())
	if err != nil {
		return "", fmt.Errorf("%s: %w", opts.Binary(), err)
	}
	digest, err := m.initrdDigest()
	if err != nil {
		return "", err
	}
	line := strings.Join(opts.Cmdline(), "\x00")
	line = strings.ReplaceAll(line, opts.SocketDir, "<sockets>")
	line = strings.ReplaceAll(line, m.Initramfs, "<initramfs>")
	return cache.Key("snapshot/v3", id, digest, line), nil
}
