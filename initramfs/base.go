package initramfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/mkuimage/uimage/builder"
	"github.com/u-root/uio/llog"

	"github.com/lkmtest/lkmtest/harness/arch"
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
func goVersion(ctx context.Context, c Store) (string, error) {
	id, err := c.ToolID("go")
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
func Base(ctx context.Context, c Store, arch arch.Arch, srcRoot string, log io.Writer) (string, error) {
	if srcRoot == "" {
		return "", fmt.Errorf("base image: lkmtest's source tree is needed to build u-root commands: run the bin/lkmtest of a checkout (make build), run from the checkout, or set LKMTEST_SRC to it")
	}
	gov, err := goVersion(ctx, c)
	if err != nil {
		return "", fmt.Errorf("base image: the Go toolchain is needed to build u-root commands: %w", err)
	}
	k := c.Key("base/v2", string(arch), urootVersion(srcRoot), gov, strings.Join(BaseCommands, ","), strings.Join(baseTags, ","))
	dir, _, err := c.Ensure(ctx, "base", k, func(ctx context.Context, tmp string) error {
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
		defer c.RemoveAll(work)
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

// Agent returns the guest agent binary for arch. It looks in order at
// agentDir (prebuilt agents, lkmtest-agent-<goarch>; "" for none),
// lkmtest's source tree (building the agent into the cache, keyed by its
// sources) and the directory of the running executable (where "make"
// installs lkmtest-agent-<goarch>).
func Agent(ctx context.Context, c Store, arch arch.Arch, srcRoot, agentDir string, log io.Writer) (string, error) {
	name := "lkmtest-agent-" + arch.Spec().GOARCH
	if agentDir != "" {
		p := filepath.Join(agentDir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("prebuilt guest agent (LKMTEST_AGENT_DIR): %w", err)
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

func buildAgent(ctx context.Context, c Store, arch arch.Arch, srcRoot string, log io.Writer) (string, error) {
	gov, err := goVersion(ctx, c)
	if err != nil {
		return "", fmt.Errorf("build guest agent: the Go toolchain is needed: %w", err)
	}
	goarch := arch.Spec().GOARCH
	k, err := agentKey(ctx, c, srcRoot, goarch, gov)
	if err != nil {
		return "", fmt.Errorf("build guest agent: %w", err)
	}
	dir, _, err := c.Ensure(ctx, "agents", c.Key("agent/v2", string(arch), k), func(ctx context.Context, tmp string) error {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o",
			filepath.Join(tmp, "agent"), agentPackage)
		cmd.Dir = srcRoot
		cmd.Env = agentEnv(goarch)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s (GOARCH=%s): %v\n%s", agentPackage, goarch, err, out)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("build guest agent: %w", err)
	}
	return filepath.Join(dir, "agent"), nil
}

// agentPackage is the guest agent's main package, relative to the source
// root.
const agentPackage = "./cmd/lkmtest-agent"

// agentEnv is the environment the guest agent is built (and its
// dependencies listed) in: static, for linux/goarch.
func agentEnv(goarch string) []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
}

// listedPackage is what go list -json says of one package.
type listedPackage struct {
	ImportPath, Dir             string
	Standard                    bool
	GoFiles, SFiles, EmbedFiles []string
}

// agentSources lists the packages outside the standard library that the
// guest agent for goarch is built from, directly or not (lkmtest's own and
// those of its modules), as go list resolves the imports in srcRoot.
func agentSources(ctx context.Context, srcRoot, goarch string) ([]listedPackage, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-json=ImportPath,Dir,Standard,GoFiles,SFiles,EmbedFiles", agentPackage)
	cmd.Dir = srcRoot
	cmd.Env = agentEnv(goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s (GOARCH=%s): %v\n%s", agentPackage, goarch, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -deps %s: %w", agentPackage, err)
		}
		if !p.Standard {
			pkgs = append(pkgs, p)
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	return pkgs, nil
}

// agentKey hashes what the guest agent for goarch is built from: the Go
// version gov, srcRoot's go.mod and go.sum, and every file the build reads
// (Go, assembly, embedded) of every package of agentSources. A new import
// is in the key as soon as it is in the source; a file the build skips
// (a test, another GOOS) is not.
func agentKey(ctx context.Context, c Store, srcRoot, goarch, gov string) (string, error) {
	pkgs, err := agentSourcesMemo(ctx, c, srcRoot, goarch, gov)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "go %s\n", gov)
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, f, filepath.Join(srcRoot, f)); err != nil {
			return "", err
		}
	}
	for _, p := range pkgs {
		fmt.Fprintf(h, "package %s\n", p.ImportPath)
		for _, files := range [][]string{p.GoFiles, p.SFiles, p.EmbedFiles} {
			for _, f := range files {
				if err := hashFile(h, f, filepath.Join(p.Dir, f)); err != nil {
					return "", err
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// agentSourcesMemo is agentSources, remembered while no file of the
// agent's own package directories in srcRoot (nor go.mod, go.sum) changes
// name, size or time: go list costs 50-250 ms, most of a warm run, and an
// edit elsewhere in the tree (a test, another command) must not cost it.
// The directories stamped are those of the packages the memo gives, until
// they agree (a new import is in an edited file of a stamped directory, so
// it changes the stamp, and go list runs again); module dependencies are
// go.sum's.
func agentSourcesMemo(ctx context.Context, c Store, srcRoot, goarch, gov string) ([]listedPackage, error) {
	dirs := []string{filepath.Join(srcRoot, filepath.FromSlash(strings.TrimPrefix(agentPackage, "./")))}
	for range 4 {
		stamp, err := dirsStamp(srcRoot, dirs)
		if err != nil {
			return agentSources(ctx, srcRoot, goarch)
		}
		v, err := c.Memo(c.Key("agent-deps/v2", srcRoot, goarch, gov, stamp), func() (string, error) {
			pkgs, err := listAgentSources(ctx, srcRoot, goarch)
			if err != nil {
				return "", err
			}
			b, err := json.Marshal(pkgs)
			return string(b), err
		})
		if err != nil {
			return nil, err
		}
		var pkgs []listedPackage
		if err := json.Unmarshal([]byte(v), &pkgs); err != nil {
			return agentSources(ctx, srcRoot, goarch)
		}
		got := packageDirs(srcRoot, pkgs)
		if slices.Equal(got, dirs) {
			return pkgs, nil
		}
		dirs = got
	}
	return agentSources(ctx, srcRoot, goarch)
}

// listAgentSources is agentSources; a test counts its calls.
var listAgentSources = agentSources

// packageDirs are the sorted directories of pkgs inside srcRoot.
func packageDirs(srcRoot string, pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		if rel, err := filepath.Rel(srcRoot, p.Dir); err == nil && !strings.HasPrefix(rel, "..") && !slices.Contains(out, p.Dir) {
			out = append(out, p.Dir)
		}
	}
	sort.Strings(out)
	return out
}

// dirsStamp names the state of the files directly in dirs and of srcRoot's
// go.mod and go.sum: their names, sizes and modification times.
func dirsStamp(srcRoot string, dirs []string) (string, error) {
	h := sha256.New()
	stamp := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
		return nil
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := stamp(filepath.Join(srcRoot, f)); err != nil {
			return "", err
		}
	}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			if !e.IsDir() {
				if err := stamp(filepath.Join(d, e.Name())); err != nil {
					return "", err
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds a file's name, size and content to h.
func hashFile(h hash.Hash, name, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s %d\n", name, len(b))
	h.Write(b)
	return nil
}
