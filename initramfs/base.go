package initramfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/mkuimage/uimage/builder"
	"github.com/u-root/uio/llog"

	"github.com/lkmtest/lkmtest/harness/arch"
	"github.com/lkmtest/lkmtest/harness/cache"
)

// ModulePath is lkmtest's Go module path.
const ModulePath = "github.com/lkmtest/lkmtest"

// BaseCommands are the u-root core commands of the base image, compiled into
// one busybox-style binary. The overlay replaces /bin/sh (gosh) by busybox ash.
var BaseCommands = []string{
	"cat", "chmod", "cmp", "cp", "date", "dd", "df", "dmesg", "du", "echo", "false", "find",
	"free", "gosh", "grep", "head", "hexdump", "id", "insmod", "kill", "ln", "ls", "lsmod",
	"mkdir", "mknod", "more", "mount", "mv", "pidof", "poweroff", "printenv", "ps", "pwd", "readlink",
	"rm", "rmmod", "seq", "sleep", "sort", "strings", "stty", "sync", "tail", "tee", "timeout",
	"touch", "tr", "true", "umount", "uname", "uniq", "wc", "which", "xargs", "yes",
}

// SourceRoot finds lkmtest's own source tree from dir upwards ("" when the
// tool runs outside it).
func SourceRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+ModulePath+"\n") {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// goVersion is "go version", remembered per go binary.
func goVersion(ctx context.Context, c *cache.Dir) (string, error) {
	id, err := cache.ToolID("go")
	if err != nil {
		return "", err
	}
	return c.Memo("version:"+id, func() (string, error) {
		out, err := exec.CommandContext(ctx, "go", "version").Output()
		return strings.TrimSpace(string(out)), err
	})
}

// urootVersion is the u-root version srcRoot's go.mod pins: the base image
// is compiled from that module, whichever binary asks for it.
func urootVersion(srcRoot string) string {
	b, _ := os.ReadFile(filepath.Join(srcRoot, "go.mod"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "github.com/u-root/u-root" {
			return f[1]
		}
	}
	return "unknown"
}

// Base returns the cached base image of u-root's core commands for arch,
// building it with mkuimage on the first use (about 30 s). srcRoot is
// lkmtest's source tree, whose go.mod pins u-root.
func Base(ctx context.Context, c *cache.Dir, arch arch.Arch, srcRoot string, log io.Writer) (string, error) {
	if srcRoot == "" {
		return "", fmt.Errorf("base image: lkmtest's source tree is needed to build u-root commands: run the bin/lkmtest of a checkout (make build), run from the checkout, or set LKMTEST_SRC to it")
	}
	gov, err := goVersion(ctx, c)
	if err != nil {
		return "", fmt.Errorf("base image: the Go toolchain is needed to build u-root commands: %w", err)
	}
	key := cache.Key("base/v2", string(arch), urootVersion(srcRoot), gov, strings.Join(BaseCommands, ","), strings.Join(baseTags, ","))
	dir, _, err := c.Ensure(ctx, "base", key, func(ctx context.Context, tmp string) error {
		fmt.Fprintf(log, "building the u-root base image for %s (once)\n", arch)
		var pkgs []string
		for _, cmd := range BaseCommands {
			pkgs = append(pkgs, "github.com/u-root/u-root/cmds/core/"+cmd)
		}
		env := golang.Default(golang.DisableCGO(), golang.WithGOARCH(arch.Spec().GOARCH), golang.WithWorkingDir(srcRoot),
			golang.WithBuildTag(baseTags...))
		l := llog.New(slog.LevelWarn, func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) })
		work := filepath.Join(tmp, "work")
		if err := os.Mkdir(work, 0o700); err != nil {
			return err
		}
		defer cache.RemoveAll(work)
		return uimage.Create(l,
			uimage.WithTempDir(work),
			uimage.WithReplaceEnv(env),
			uimage.WithCommands(nil, builder.Busybox, pkgs...),
			uimage.WithShell("gosh"),
			uimage.WithCPIOOutput(filepath.Join(tmp, "base.cpio")),
		)
	})
	if err != nil {
		return "", fmt.Errorf("base image for %s: %w", arch, err)
	}
	return filepath.Join(dir, "base.cpio"), nil
}

// baseTags are the Go build tags of the base image. goshsmall gives gosh
// the kernel tty's own line editing instead of a full-screen editor that
// queries the terminal (and waits for answers a pipe never gives): 'lkmtest
// shell' works from a terminal and from a pipe alike.
var baseTags = []string{"goshsmall"}

// agentSources are the packages compiled into the guest agent.
var agentSources = []string{"cmd/lkmtest-agent", "harness/guest", "harness/klog"}

// Agent returns the guest agent binary for arch. It looks in order at
// $LKMTEST_AGENT_DIR, lkmtest's source tree (building the agent into the
// cache, keyed by its sources) and the directory of the running executable
// (where "make" installs lkmtest-agent-<goarch>).
func Agent(ctx context.Context, c *cache.Dir, arch arch.Arch, srcRoot string, log io.Writer) (string, error) {
	name := "lkmtest-agent-" + arch.Spec().GOARCH
	if d := os.Getenv("LKMTEST_AGENT_DIR"); d != "" {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("LKMTEST_AGENT_DIR: %w", err)
		}
		return p, nil
	}
	if srcRoot != "" {
		return buildAgent(ctx, c, arch, srcRoot, log)
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("guest agent %s not found next to lkmtest: install both with 'make install', or set LKMTEST_AGENT_DIR", name)
}

func buildAgent(ctx context.Context, c *cache.Dir, arch arch.Arch, srcRoot string, log io.Writer) (string, error) {
	h := sha256.New()
	gov, err := goVersion(ctx, c)
	if err != nil {
		return "", fmt.Errorf("build guest agent: the Go toolchain is needed: %w", err)
	}
	h.Write([]byte(gov))
	files := []string{filepath.Join(srcRoot, "go.mod"), filepath.Join(srcRoot, "go.sum")}
	for _, pkg := range agentSources {
		m, _ := filepath.Glob(filepath.Join(srcRoot, pkg, "*.go"))
		files = append(files, m...)
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("build guest agent: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", strings.TrimPrefix(f, srcRoot), len(b))
		h.Write(b)
	}
	key := cache.Key("agent/v1", string(arch), hex.EncodeToString(h.Sum(nil)))
	dir, _, err := c.Ensure(ctx, "agents", key, func(ctx context.Context, tmp string) error {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o",
			filepath.Join(tmp, "agent"), "./cmd/lkmtest-agent")
		cmd.Dir = srcRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch.Spec().GOARCH)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build ./cmd/lkmtest-agent (GOARCH=%s): %v\n%s", arch.Spec().GOARCH, err, out)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("build guest agent: %w", err)
	}
	return filepath.Join(dir, "agent"), nil
}
