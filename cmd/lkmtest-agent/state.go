package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// The taint bits a module's load sets for good (O: out of tree, E:
// unsigned); the state leaves them out, since the kernel keeps them after
// the module is gone and they change nothing for a later test.
const loadTaints = 1<<12 | 1<<13

// sysctlDirs are the /proc/sys directories whose values the state holds:
// what a test may change and forget to restore (a scheduler's timeslice,
// overcommit, printk's level).
var sysctlDirs = []string{"/proc/sys/kernel", "/proc/sys/vm"}

// volatileSysctl are values the kernel changes by itself (an id handed
// out, a rate it tunes, a counter): not part of the state.
var volatileSysctl = []string{
	"kernel/random/", "kernel/ns_last_pid", "kernel/pty/nr", "kernel/perf_event_max_sample_rate",
	"kernel/tainted", "vm/stat_refresh", "vm/drop_caches", "vm/compact_memory",
}

// listedDirs are the directories whose entries the state holds: device
// nodes, scratch files, the cgroup tree.
var listedDirs = []string{"/dev", "/tmp", "/sys/fs/cgroup"}

// state describes what one test can leave behind that another would see:
// the taint (but for load taints), the loaded modules, the processes by
// name (kworkers come and go: left out), the mounts, the sysctl values,
// the entries of a few directories and the background programs still
// running. The host compares it before and after a test to decide whether
// the VM can run another. Programs that ended are forgotten, so that the
// next test may use their handles again.
func state() map[string]string {
	st := map[string]string{"taint": fmt.Sprint(readTaint() &^ loadTaints)}
	if b, err := os.ReadFile("/proc/modules"); err == nil {
		var mods []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				mods = append(mods, f[0])
			}
		}
		sort.Strings(mods)
		st["modules"] = strings.Join(mods, " ")
	}
	st["processes"] = processes()
	if b, err := os.ReadFile("/proc/self/mounts"); err == nil {
		st["mounts"] = string(b)
	}
	for _, d := range sysctlDirs {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			name := strings.TrimPrefix(p, "/proc/sys/")
			for _, v := range volatileSysctl {
				if strings.HasPrefix(name, v) {
					return nil
				}
			}
			if b, err := readValue(p); err == nil {
				st["sysctl "+name] = strings.TrimSpace(string(b))
			}
			return nil
		})
	}
	for _, d := range listedDirs {
		var names []string
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if p != d {
				names = append(names, strings.TrimPrefix(p, d+"/"))
			}
			// The cgroup tree's directories, not its control files.
			if d == "/sys/fs/cgroup" && !e.IsDir() {
				names = names[:len(names)-1]
			}
			return nil
		})
		st["ls "+d] = strings.Join(names, " ")
	}
	background.Lock()
	var running []string
	for h, p := range background.m {
		if p.ended {
			delete(background.m, h)
			continue
		}
		select {
		case err := <-p.done:
			p.err, p.ended = err, true
			delete(background.m, h)
		default:
			running = append(running, h)
		}
	}
	background.Unlock()
	sort.Strings(running)
	st["background"] = strings.Join(running, " ")
	return st
}

// processes are the names of the processes other than the agent and the
// kworkers, sorted, with a count when more than one has the name.
func processes() string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return ""
	}
	self := fmt.Sprint(os.Getpid())
	n := map[string]int{}
	for _, e := range ents {
		if e.Name() == self || strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		b, err := readValue("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(b))
		if strings.HasPrefix(comm, "kworker/") {
			continue
		}
		n[comm]++
	}
	var out []string
	for c, k := range n {
		if k > 1 {
			c = fmt.Sprintf("%s*%d", c, k)
		}
		out = append(out, c)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// readValue reads a sysctl or a /proc/PID/comm: a value the kernel hands
// out whole in one read, so the file is read in three system calls
// (open, read, close) where os.ReadFile makes five. The state reads a few
// hundred such files, and under TCG each call into the guest's kernel is
// slow. A value longer than the buffer is read to its end.
func readValue(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf := make([]byte, 4096)
	n := 0
	for {
		k, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		n += k
		if k == 0 || n < len(buf) {
			return buf[:n], nil
		}
		buf = append(buf, make([]byte, len(buf))...)
	}
}
