package initramfs

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/u-root/u-root/pkg/cpio"
)

// Marker is the file whose presence tells the agent it runs from an lkmtest
// initramfs.
const Marker = "etc/lkmtest-initramfs"

// HelperDir holds symlinks named after the operations the agent runs in
// child processes, so the kernel sees the task as "insmod" or "rmmod";
// they point to the module helper (Overlay.Child), else to the agent.
const HelperDir = "lkmtest/bin"

// Helpers are the agent's child operations.
var Helpers = []string{"insmod", "rmmod"}

// File is one regular file of an overlay.
type File struct {
	// Path is the path inside the archive, without a leading slash.
	Path string
	// Data is the content.
	Data []byte
	// Mode is the permission bits.
	Mode uint64
}

// Overlay describes the per-run archive.
type Overlay struct {
	// Init is the guest agent binary, installed as /init.
	Init []byte
	// Child is the static module helper (see Child); without it the agent
	// runs its own Go code in the child processes, which starts slower.
	Child []byte
	// Busybox is a static busybox (see Busybox), installed as /bin/busybox
	// with a link per BusyboxApplets; nil for none.
	Busybox []byte
	// Files are extra files (helpers, data).
	Files []File
}

// Records returns the overlay's cpio records, parent directories first.
func (o Overlay) Records() []cpio.Record {
	dirs := map[string]bool{"etc": true, "dev": true, "proc": true, "sys": true, "tmp": true, "lkm": true, HelperDir: true}
	files := []File{{Path: "init", Data: o.Init, Mode: 0o755}, {Path: Marker, Data: []byte("lkmtest\n"), Mode: 0o444}}
	target := "/init"
	if len(o.Child) > 0 {
		files = append(files, File{Path: HelperDir + "/" + ChildName, Data: o.Child, Mode: 0o755})
		target = "/" + HelperDir + "/" + ChildName
	}
	if len(o.Busybox) > 0 {
		files = append(files, File{Path: "bin/busybox", Data: o.Busybox, Mode: 0o755})
	}
	files = append(files, o.Files...)
	for _, f := range files {
		dirs[parent(f.Path)] = true
	}
	for d := range dirs {
		for p := parent(d); p != ""; p = parent(p) {
			dirs[p] = true
		}
	}
	delete(dirs, "")
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names) // a parent sorts before its children
	var recs []cpio.Record
	for _, d := range names {
		mode := uint64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		recs = append(recs, cpio.Directory(d, mode))
	}
	recs = append(recs, cpio.CharDev("dev/console", 0o600, 5, 1), cpio.CharDev("dev/null", 0o666, 1, 3))
	for _, f := range files {
		recs = append(recs, cpio.StaticFile(f.Path, string(f.Data), f.Mode))
	}
	for _, h := range Helpers {
		recs = append(recs, cpio.Symlink(HelperDir+"/"+h, target))
	}
	if len(o.Busybox) > 0 {
		for _, a := range BusyboxApplets {
			recs = append(recs, cpio.Symlink("bin/"+a, "busybox"))
		}
		// The shell is busybox's ash, over the base image's /bin/sh
		// (u-root's gosh, which passes no arguments to scripts): POSIX sh
		// with the bash features scripts use ([[ ]], $(( )), functions).
		// bash is a script, not a link: busybox knows a command by the
		// name it runs as, and has no "bash".
		recs = append(recs, cpio.Symlink("bin/sh", "busybox"), cpio.Symlink("bin/ash", "busybox"),
			cpio.StaticFile("bin/bash", "#!/bin/busybox ash\nexec /bin/busybox ash \"$@\"\n", 0o755))
	}
	cpio.MakeAllReproducible(recs)
	return recs
}

func parent(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

// Write writes the overlay as a newc archive with its trailer.
func (o Overlay) Write(w io.Writer) error {
	rw := cpio.Newc.Writer(w)
	if err := cpio.WriteRecords(rw, o.Records()); err != nil {
		return fmt.Errorf("write overlay: %w", err)
	}
	return cpio.WriteTrailer(rw)
}

// Assemble writes base (may be "") followed by the overlay to path.
func Assemble(path, base string, o Overlay) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if base != "" {
		in, err := os.Open(base)
		if err != nil {
			out.Close()
			return fmt.Errorf("open base image: %w", err)
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			out.Close()
			return fmt.Errorf("copy base image: %w", err)
		}
		// newc archives must start 4-byte aligned; a trailer pads to 512.
	}
	if err := o.Write(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
