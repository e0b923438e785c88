package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/guest"
	"github.com/lkmtest/lkmtest/harness/internal/proc"
	"github.com/lkmtest/lkmtest/harness/quirk"
	"github.com/lkmtest/lkmtest/qemu"
)

// A VM restored from a snapshot is a new QEMU process, and QEMU translates
// the guest's code anew in each: a fresh VM's first steps cost it 60-100 ms
// of translation (a module helper's fork and exec, the module loader),
// besides QEMU's own start and the restore. Where runs follow one another
// (a module author's edit loop), a run leaves a standby for the next: a
// process of its own (lkmtest standby serve) that restores a VM from the
// same snapshot, warms it up as a test's warm-up does (warmUpRequest),
// pauses it and waits for a claim. A run that needs a fresh VM of that
// snapshot claims it first: the holder hands over the agent channel and
// the console (qemu.Detach, Adopt) and stays QEMU's parent until QEMU
// exits, then says how it ended. The guest is the snapshot's, as with a
// restore, but for the warm-up's trace (a helper that ran, which loaded
// nothing). A standby nobody claims ends after its idle time; one is kept
// per snapshot key, and a claimed standby frees its key at once.

// StandbySpec is what a standby's holder needs: the VM's snapshot and what
// its command line is made of.
type StandbySpec struct {
	// Key is the snapshot's key; Snapshot its directory.
	Key      string `json:"key"`
	Snapshot string `json:"snapshot"`
	// The machine (see Machine) and the VM's own settings (see Config).
	Arch      arch.Arch  `json:"arch"`
	Image     string     `json:"image"`
	Initramfs string     `json:"initramfs"`
	Accel     qemu.Accel `json:"accel"`
	Quirks    quirk.Set  `json:"quirks"`
	Memory    int        `json:"memory,omitempty"`
	CPUs      int        `json:"cpus,omitempty"`
	Cmdline   []string   `json:"cmdline,omitempty"`
	// Idle is how long the standby waits for a claim.
	Idle time.Duration `json:"idle"`
}

// standbyInitramfs is the standby's copy of the initramfs, in the
// snapshot's directory (the run directory's may be gone by then).
const standbyInitramfs = "initramfs.cpio"

// WarmUpRequest is a test's warm-up (and a standby's): an insmod of a file
// that is not there, so that the module helper has run once in this QEMU.
func WarmUpRequest() guest.Request {
	return guest.Request{Op: guest.OpInsmod, Path: WarmUpPath, TimeoutMS: 5000, Aux: true}
}

// WarmUpPath is the module a warm-up loads: no such file (ENOENT, no
// system call into the module loader).
const WarmUpPath = "/lkmtest/warm-up-helper.ko"

// standbyDir is where the holder of the standby for key listens
// (claim.sock) and holds its lock: short, for the socket path's limit.
func standbyDir(key string) string { return standbyPrefix() + key }

// standbyPrefix starts the standby directories of this user.
func standbyPrefix() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("lkmtest-standby-%d-", os.Getuid()))
}

const claimSocket = "claim.sock"

// claimRequest names the protocol's version: a holder of another version
// of lkmtest ignores it (the claimer restores as usual).
const claimRequest = "claim v1"

// The claim protocol, one packet each (unixpacket): the claimer sends
// claimRequest (or "quit" to end an idle standby); the holder answers with a
// standbyHeader and the agent channel's and the console's descriptors;
// later the claimer may send "kill", and the holder sends a standbyExit
// once QEMU has exited.
type standbyHeader struct {
	Handoff qemu.Handoff `json:"handoff"`
	// Console is what the console printed since the restore.
	Console []byte `json:"console,omitempty"`
	// Early is the warm-up's answer: its records are the first step's.
	Early guest.Response `json:"early"`
}

type standbyExit struct {
	Code   int    `json:"code"`
	Stderr string `json:"stderr,omitempty"`
}

// maxPacket bounds a packet of the claim protocol (a socket's send buffer
// holds some 200 KB): the holder cuts what it relays (tail).
const maxPacket = 1 << 20

// tail is the end of b, at most n bytes.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// claimWait bounds how long a claim waits for a standby still warming up:
// less than a restore takes.
const claimWait = 2 * time.Second

// claimStandby adopts the standby VM of the snapshot key, if one is
// there; fns describe the VM (as for the restore). It returns nil when
// there is none (or it failed: the caller restores as usual).
func (m *Machine) claimStandby(ctx context.Context, key string, fns []qemu.Fn) (*qemu.VM, *standbyHeader) {
	if privateDir(standbyDir(key)) != nil {
		return nil, nil
	}
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: filepath.Join(standbyDir(key), claimSocket), Net: "unixpacket"})
	if err != nil {
		return nil, nil
	}
	fail := func(err error) (*qemu.VM, *standbyHeader) {
		conn.Close()
		if m.Log != nil {
			fmt.Fprintf(m.Log, "standby VM %s not used: %v\n", key, err)
		}
		return nil, nil
	}
	_ = conn.SetDeadline(time.Now().Add(claimWait))
	if _, err := conn.Write([]byte(claimRequest)); err != nil {
		return fail(err)
	}
	buf := make([]byte, maxPacket)
	oob := make([]byte, syscall.CmsgSpace(2*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return fail(err)
	}
	files, err := receivedFiles(oob[:oobn])
	if err != nil {
		return fail(err)
	}
	var h standbyHeader
	if err := json.Unmarshal(buf[:n], &h); err != nil {
		for _, f := range files {
			f.Close()
		}
		return fail(fmt.Errorf("standby header: %w", err))
	}
	_ = conn.SetDeadline(time.Time{})
	vm, err := qemu.Adopt(ctx, m.Arch, h.Handoff, files, &remoteHolder{conn: conn}, fns...)
	if err != nil {
		return fail(err)
	}
	return vm, &h
}

func receivedFiles(oob []byte) ([]*os.File, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, msg := range msgs {
		fds, err := syscall.ParseUnixRights(&msg)
		if err != nil {
			return nil, err
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "standby"))
		}
	}
	return files, nil
}

// remoteHolder is a standby's holder, as its claimer sees it.
type remoteHolder struct {
	conn *net.UnixConn
	once sync.Once
}

func (h *remoteHolder) Wait() (int, string) {
	defer h.once.Do(func() { h.conn.Close() })
	buf := make([]byte, maxPacket)
	n, err := h.conn.Read(buf)
	if err != nil {
		return -1, fmt.Sprintf("lkmtest: the standby's holder did not say how QEMU ended: %v", err)
	}
	var e standbyExit
	if err := json.Unmarshal(buf[:n], &e); err != nil {
		return -1, fmt.Sprintf("lkmtest: the standby's holder: %v", err)
	}
	return e.Code, e.Stderr
}

func (h *remoteHolder) Kill() { _, _ = h.conn.Write([]byte("kill")) }

// The standbys this process's runs would like the next run to find, by
// snapshot key (wantStandby), for SpawnStandbys.
var wanted = struct {
	sync.Mutex
	m map[string]StandbySpec
}{m: map[string]StandbySpec{}}

// maxStandbys bounds the standbys one run leaves.
const maxStandbys = 4

// wantStandby records that a VM of the snapshot key was started fresh.
func (m *Machine) wantStandby(key, snap string, cfg Config) {
	wanted.Lock()
	defer wanted.Unlock()
	if _, ok := wanted.m[key]; ok || len(wanted.m) >= maxStandbys {
		return
	}
	wanted.m[key] = StandbySpec{Key: key, Snapshot: snap, Arch: m.Arch, Image: m.Image, Initramfs: m.Initramfs,
		Accel: m.Accel.Accel, Quirks: m.Quirks, Memory: cfg.Memory, CPUs: cfg.CPUs, Cmdline: cfg.Cmdline, Idle: m.Standby}
}

// SpawnStandbys starts, for each snapshot whose VMs this process started
// fresh, a standby for the next run: self standby serve SPEC, in a session
// of its own that outlives this process, its output appended to
// standby.log in the snapshot's directory. It returns the keys.
func SpawnStandbys(self string) ([]string, error) {
	wanted.Lock()
	specs := wanted.m
	wanted.m = map[string]StandbySpec{}
	wanted.Unlock()
	var keys []string
	var errs []error
	for key, spec := range specs {
		if err := spawnStandby(self, spec); err != nil {
			errs = append(errs, fmt.Errorf("standby for snapshot %s: %w", key, err))
			continue
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys, errors.Join(errs...)
}

func spawnStandby(self string, spec StandbySpec) error {
	// The key's lock and socket are made here and handed to the holder
	// (descriptors 3 and 4): the next run, however soon, finds the socket
	// and waits for the holder to be ready.
	lock, ln, err := listenStandby(spec.Key)
	if err != nil || lock == nil {
		return err // nil: another holder keeps it
	}
	defer lock.Close()
	lf, err := ln.File()
	ln.Close()
	if err == nil {
		defer lf.Close()
		err = startHolder(self, spec, lock, lf)
	}
	if err != nil {
		os.RemoveAll(standbyDir(spec.Key))
	}
	return err
}

// startHolder starts lkmtest standby serve for spec, with the key's lock
// and socket.
func startHolder(self string, spec StandbySpec, lock, sock *os.File) error {
	// The initramfs goes with the snapshot (content-keyed: the same file).
	keep := filepath.Join(spec.Snapshot, standbyInitramfs)
	if _, err := os.Stat(keep); err != nil {
		tmp := keep + fmt.Sprintf(".%d.tmp", os.Getpid())
		if err := os.Link(spec.Initramfs, tmp); err != nil {
			if err := cache.CopyFile(tmp, spec.Initramfs, 0o600); err != nil {
				return err
			}
		}
		if err := os.Rename(tmp, keep); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	spec.Initramfs = keep
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return proc.Detach(filepath.Join(spec.Snapshot, "standby.log"), self, []string{"standby", "serve", string(b)}, lock, sock)
}

// listenStandby takes the lock of the standby for key and listens on its
// socket; nil, nil, nil when another holder has the lock.
func listenStandby(key string) (*os.File, *net.UnixListener, error) {
	dir := standbyDir(key)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, nil, err
	}
	if err := privateDir(dir); err != nil {
		return nil, nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, socketOwnerFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		lock.Close()
		return nil, nil, nil
	}
	path := filepath.Join(dir, claimSocket)
	_ = os.Remove(path) // a dead holder's
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	ln.SetUnlinkOnClose(false) // the holder's copy serves it
	return lock, ln, nil
}

// fns is the restored VM's command line, as Machine.Start makes it.
func (spec StandbySpec) fns(sock string, console io.Writer) []qemu.Fn {
	m := &Machine{Quirks: spec.Quirks}
	return append(m.quirkFns(),
		qemu.WithKernel(spec.Image), qemu.WithInitramfs(spec.Initramfs), qemu.WithAccel(spec.Accel),
		qemu.WithSocketDir(sock), qemu.WithAgent(), qemu.WithConsole(console),
		qemu.WithMemory(spec.Memory), qemu.WithCPUs(spec.CPUs), qemu.WithAppend(spec.Cmdline...),
		qemu.WithIncoming(filepath.Join(spec.Snapshot, "state")), qemu.WithRAMFile(filepath.Join(spec.Snapshot, ramFile), false))
}

// ServeStandby is a standby's holder (lkmtest standby serve, started by
// SpawnStandbys with the key's lock and socket as descriptors 3 and 4): it
// restores the VM, warms it up, pauses it and waits spec.Idle for a claim,
// then hands the VM over and waits for QEMU's end.
func ServeStandby(ctx context.Context, spec StandbySpec, log io.Writer) error {
	dir := standbyDir(spec.Key)
	lock, sockFile := os.NewFile(3, "lock"), os.NewFile(4, claimSocket)
	defer lock.Close()
	l, err := net.FileListener(sockFile)
	sockFile.Close()
	if err != nil {
		return fmt.Errorf("standby socket (descriptor 4, from lkmtest run): %w", err)
	}
	ln, ok := l.(*net.UnixListener)
	if !ok {
		l.Close()
		return fmt.Errorf("standby socket: %T, not a unix socket", l)
	}
	freed := false
	free := func() { // the key is free for the next standby
		if !freed {
			freed = true
			ln.Close()
			os.RemoveAll(dir)
			lock.Close()
		}
	}
	defer free()

	sock, err := socketDir("vm")
	if err != nil {
		return err
	}
	defer releaseSocketDir(sock)
	console := &lockedBuffer{}
	vm, err := qemu.Start(ctx, spec.Arch, spec.fns(sock, console)...)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer vm.Wait()
	c := guest.NewClient(vm.Agent(), vm.Done(), nil)
	early, err := c.Call(ctx, WarmUpRequest(), 10*time.Second)
	if err != nil {
		vm.Stop()
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := vm.Pause(); err != nil {
		vm.Stop()
		return err
	}
	fmt.Fprintf(log, "%s standby VM of snapshot %s ready (its sockets in %s), for %s\n", time.Now().Format(time.RFC3339), spec.Key, sock, spec.Idle)

	deadline := time.Now().Add(spec.Idle)
	for {
		_ = ln.SetDeadline(deadline)
		conn, err := ln.AcceptUnix()
		if err != nil {
			vm.Stop()
			fmt.Fprintf(log, "%s not claimed: %v\n", time.Now().Format(time.RFC3339), err)
			return nil
		}
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 64)
		n, err := conn.Read(buf)
		switch {
		case err != nil:
			conn.Close()
			continue
		case string(buf[:n]) == "quit":
			conn.Close()
			vm.Stop()
			return nil
		case string(buf[:n]) != claimRequest:
			conn.Close()
			continue
		}
		_ = conn.SetDeadline(time.Time{})
		if err := handOver(vm, conn, console, early); err != nil {
			conn.Close()
			vm.Stop()
			return fmt.Errorf("hand over: %w", err)
		}
		free()
		go func() {
			for {
				n, err := conn.Read(buf)
				if err != nil || string(buf[:n]) == "kill" {
					vm.Kill() // the claimer asked, or is gone
				}
				if err != nil {
					return
				}
			}
		}()
		exit := vm.Wait()
		b, _ := json.Marshal(standbyExit{Code: exit.Code, Stderr: string(tail([]byte(exit.Stderr), 64<<10))})
		_, _ = conn.Write(b)
		conn.Close()
		fmt.Fprintf(log, "%s claimed; %s\n", time.Now().Format(time.RFC3339), exit)
		return nil
	}
}

func handOver(vm *qemu.VM, conn *net.UnixConn, console *lockedBuffer, early guest.Response) error {
	h, files, err := vm.Detach()
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var dropped uint64
	early.Records, dropped = guest.CapRecords(early.Records, 64)
	early.Dropped += dropped
	b, err := json.Marshal(standbyHeader{Handoff: h, Console: tail(console.Bytes(), 64<<10), Early: early})
	if err != nil {
		return err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	_, _, err = conn.WriteMsgUnix(b, syscall.UnixRights(fds...), nil)
	return err
}

// StopStandbys ends the idle standbys of this user: the keys stopped.
func StopStandbys() []string {
	dirs, _ := filepath.Glob(standbyPrefix() + "*")
	var keys []string
	for _, d := range dirs {
		conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: filepath.Join(d, claimSocket), Net: "unixpacket"})
		if err != nil {
			continue
		}
		if _, err := conn.Write([]byte("quit")); err == nil {
			keys = append(keys, strings.TrimPrefix(d, standbyPrefix()))
		}
		conn.Close()
	}
	return keys
}

// privateDir checks that dir (a standby's, in the shared temporary
// directory, at a name others can guess) is a directory of this user that
// no one else may enter: a claim trusts what it finds there.
func privateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is not a private directory of this user: not used", dir)
	}
	return nil
}

// lockedBuffer is a console destination read from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b = append(l.b, p...)
	l.mu.Unlock()
	return len(p), nil
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b...)
}
