package dkms

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// kernelDir is a fake kernel build directory with a .config.
func kernelDir(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "include", "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func env(t *testing.T, release, arch string) Env {
	return Env{KernelVer: release, Arch: arch, KernelSourceDir: kernelDir(t, "CONFIG_HID=y\nCONFIG_USB=m\n# CONFIG_NET is not set\n"),
		DKMSTree: "/work/dkms", SourceTree: "/work/src", Jobs: 3}
}

func load(t *testing.T, text string, e Env) (*Conf, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), ConfName)
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(context.Background(), f, e)
}

func mustLoad(t *testing.T, text string, e Env) *Conf {
	t.Helper()
	c, err := load(t, text, e)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The shapes real DKMS repositories use (written anew here): a MAKE that
// enters a subdirectory, DKMS's default MAKE, $(nproc) and backquotes, a
// test with &&, quoted 'make' that DKMS leaves alone, two modules in a
// subdirectory, variables in ${} and $ forms.
func TestLoadCommonForms(t *testing.T) {
	e := env(t, "6.1.192", "x86_64")
	c := mustLoad(t, `# a comment
PACKAGE_NAME="mydrv"
PACKAGE_VERSION=1.2
BUILT_MODULE_NAME[0]="mydrv"
DEST_MODULE_LOCATION[0]="/kernel/drivers/misc"
AUTOINSTALL="yes"
MAKE[0]="make -C module KDIR=${kernel_source_dir}"
CLEAN="make -C module clean"
`, e)
	if c.PackageName != "mydrv" || c.PackageVersion != "1.2" || !c.AutoInstall || c.Clean != "make -C module clean" {
		t.Errorf("conf: %+v", c)
	}
	if want := "make -j3 KERNELRELEASE=6.1.192 -C module KDIR=" + e.KernelSourceDir; c.Command() != want {
		t.Errorf("command %q, want %q", c.Command(), want)
	}
	if !reflect.DeepEqual(c.Modules, []Module{{Index: 0, Name: "mydrv"}}) || c.Modules[0].Path() != "mydrv.ko" {
		t.Errorf("modules %+v", c.Modules)
	}
	if c.BuildDir() != "/work/dkms/mydrv/1.2/build" {
		t.Errorf("build dir %s", c.BuildDir())
	}

	c = mustLoad(t, `PACKAGE_NAME="wifi"
PACKAGE_VERSION="5.6~2022"
CLEAN="'make' clean"
BUILT_MODULE_NAME[0]=88XXau
JOBS=`+"`nproc`"+`
[ $JOBS -gt 2 ] && JOBS=2
MAKE="'make' -j$JOBS KVER=${kernelver} KSRC=/lib/modules/${kernelver}/build"
`, e)
	if want := "'make' -j2 KVER=6.1.192 KSRC=" + e.KernelSourceDir; c.Command() != want {
		t.Errorf("quoted make: %q, want %q (left alone, /lib/modules/<kernelver>/build is lkmtest's kernel)", c.Command(), want)
	}

	c = mustLoad(t, `PACKAGE_NAME=two-mods
PACKAGE_VERSION=0.1
BUILT_MODULE_NAME[0]=alpha
BUILT_MODULE_LOCATION[0]=src
BUILT_MODULE_NAME[1]=beta
BUILT_MODULE_LOCATION[1]=src/
MAKE[0]="make -j$(nproc) -C $kernel_source_dir M=$dkms_tree/$PACKAGE_NAME/$PACKAGE_VERSION/build/src"
`, e)
	want := []Module{{0, "alpha", "src/"}, {1, "beta", "src/"}}
	if !reflect.DeepEqual(c.Modules, want) || c.Modules[1].Path() != "src/beta.ko" {
		t.Errorf("modules %+v, want %+v", c.Modules, want)
	}
	if !strings.HasSuffix(c.Command(), "-j3 -C "+e.KernelSourceDir+" M=/work/dkms/two-mods/0.1/build/src") {
		t.Errorf("command %q", c.Command())
	}

	// No MAKE: DKMS's default; no BUILT_MODULE_NAME: the package's name.
	c = mustLoad(t, "PACKAGE_NAME=\"solo\"\nPACKAGE_VERSION=\"3\"\nDEST_MODULE_LOCATION[0]=/extra\n", e)
	if c.MakeDirective != "" || c.Command() != "make -j3 KERNELRELEASE=6.1.192 -C "+e.KernelSourceDir+" M=/work/dkms/solo/3/build" {
		t.Errorf("default make: %q (%s)", c.Command(), c.MakeDirective)
	}
	if len(c.Modules) != 1 || c.Modules[0].Name != "solo" {
		t.Errorf("default module: %+v", c.Modules)
	}

	// DOS line endings are dropped, as DKMS does.
	c = mustLoad(t, "PACKAGE_NAME=\"crlf\"\r\nPACKAGE_VERSION=\"1\"\r\nMAKE[0]=\"make all\"\r\n", e)
	if c.PackageName != "crlf" || c.Make != "make all" {
		t.Errorf("CRLF: %q %q", c.PackageName, c.Make)
	}
}

// A configuration that reads the kernel's .config and compares versions
// through a pipe (as v4l2loopback's does) means what bash makes of it.
func TestLoadConditionalOnKernelConfig(t *testing.T) {
	text := `PACKAGE_NAME="vid"
PACKAGE_VERSION="0.13"
if [ -f $kernel_source_dir/.config ]; then
    . $kernel_source_dir/.config
    if ! { echo "$kernelver"; echo 5.18; } | sort -V -C; then
        if [ "${CONFIG_HID:-n}" = "n" ]; then
            BUILD_EXCLUSIVE_KERNEL="REQUIRES CONFIG_HID"
        fi
    else
        if [ "${CONFIG_NET:-n}" = "n" ]; then
            BUILD_EXCLUSIVE_KERNEL="REQUIRES CONFIG_NET"
        fi
    fi
fi
MAKE[0]="make KERNEL_DIR=${kernel_source_dir} vid"
BUILT_MODULE_NAME[0]="$PACKAGE_NAME"
`
	if c := mustLoad(t, text, env(t, "6.12.117", "x86_64")); c.Excluded != "" {
		t.Errorf("6.12 has CONFIG_HID: excluded %q", c.Excluded)
	}
	c := mustLoad(t, text, env(t, "5.4.302", "x86_64"))
	if !strings.Contains(c.Excluded, `BUILD_EXCLUSIVE_KERNEL="REQUIRES CONFIG_NET" does not match kernel 5.4.302`) {
		t.Errorf("5.4 lacks CONFIG_NET: excluded %q", c.Excluded)
	}
}

func TestLoadMatchAndExclusive(t *testing.T) {
	text := `PACKAGE_NAME=m
PACKAGE_VERSION=1
MAKE[0]="make old"
MAKE_MATCH[0]="^5\."
MAKE[1]="make new"
MAKE_MATCH[1]="^6\."
PATCH[0]=fix-5.patch
PATCH_MATCH[0]="^5\."
PATCH[1]=always.patch
PATCH[2]=fix-6.12.patch
PATCH_MATCH[2]="^6\.12\."
`
	for _, tc := range []struct {
		release, make string
		patches       []string
	}{
		{"5.4.302", "make old", []string{"fix-5.patch", "always.patch"}},
		{"6.1.192", "make new", []string{"always.patch"}},
		{"6.12.117", "make new", []string{"always.patch", "fix-6.12.patch"}},
	} {
		c := mustLoad(t, text, env(t, tc.release, "x86_64"))
		if c.Make != tc.make || !reflect.DeepEqual(c.Patches, tc.patches) {
			t.Errorf("%s: make %q patches %q, want %q %q", tc.release, c.Make, c.Patches, tc.make, tc.patches)
		}
	}
	// With MAKE_MATCH[0] set and no match, DKMS's default command.
	c := mustLoad(t, text, env(t, "7.0.1", "x86_64"))
	if c.MakeDirective != "" || !strings.Contains(c.Make, "M=/work/dkms/m/1/build") {
		t.Errorf("7.0: make %q", c.Make)
	}

	base := "PACKAGE_NAME=x\nPACKAGE_VERSION=1\n"
	for _, tc := range []struct {
		conf, release, arch, want string
	}{
		{`BUILD_EXCLUSIVE_KERNEL="^6\.1\."`, "6.1.192", "x86_64", ""},
		{`BUILD_EXCLUSIVE_KERNEL="^6\.1\."`, "6.12.117", "x86_64", `BUILD_EXCLUSIVE_KERNEL="^6\.1\." does not match kernel 6.12.117`},
		{`BUILD_EXCLUSIVE_KERNEL_MIN="6.2"`, "6.1.192", "x86_64", `kernel 6.1.192 is older than BUILD_EXCLUSIVE_KERNEL_MIN="6.2"`},
		{`BUILD_EXCLUSIVE_KERNEL_MIN="6.2"`, "6.12.117", "x86_64", ""},
		{`BUILD_EXCLUSIVE_KERNEL_MAX="6.9"`, "6.12.117", "x86_64", `kernel 6.12.117 is newer than BUILD_EXCLUSIVE_KERNEL_MAX="6.9"`},
		{`BUILD_EXCLUSIVE_KERNEL_MAX="6.9"`, "6.1.192", "x86_64", ""},
		{`OBSOLETE_BY="6.5"`, "6.12.117", "x86_64", `newer than OBSOLETE_BY="6.5"`},
		{`BUILD_EXCLUSIVE_ARCH="x86_64"`, "6.1.192", "aarch64", `BUILD_EXCLUSIVE_ARCH="x86_64" does not match arch aarch64`},
		{`BUILD_EXCLUSIVE_ARCH="^(aarch64|arm64)$"`, "6.1.192", "aarch64", ""},
		{`BUILD_EXCLUSIVE_CONFIG="CONFIG_HID CONFIG_USB"`, "6.1.192", "x86_64", ""},
		{`BUILD_EXCLUSIVE_CONFIG="CONFIG_HID CONFIG_NET"`, "6.1.192", "x86_64", `the kernel has no CONFIG_NET`},
		{`BUILD_EXCLUSIVE_CONFIG="!CONFIG_USB"`, "6.1.192", "x86_64", `the kernel has CONFIG_USB`},
	} {
		c := mustLoad(t, base+tc.conf+"\n", env(t, tc.release, tc.arch))
		if (tc.want == "") != (c.Excluded == "") || !strings.Contains(c.Excluded, tc.want) {
			t.Errorf("%s on %s %s: excluded %q, want %q", tc.conf, tc.release, tc.arch, c.Excluded, tc.want)
		}
	}
}

func TestPadVersion(t *testing.T) {
	for _, tc := range []struct{ a, b string }{{"6.1.9", "6.1.10"}, {"5.18", "6.1"}, {"6.1.192", "6.12.0"}, {"4.18.0", "4.18.1"}} {
		if !(padVersion(tc.a) < padVersion(tc.b)) {
			t.Errorf("%s should be older than %s (%s, %s)", tc.a, tc.b, padVersion(tc.a), padVersion(tc.b))
		}
	}
}

// uname answers for the target kernel, nproc with the jobs.
func TestLoadUnameNproc(t *testing.T) {
	c := mustLoad(t, "PACKAGE_NAME=u\nPACKAGE_VERSION=$(uname -r)-$(uname -m)-$(nproc)\n", env(t, "6.12.117", "aarch64"))
	if c.PackageVersion != "6.12.117-aarch64-3" {
		t.Errorf("version %q", c.PackageVersion)
	}
}

// What lkmtest does not evaluate, and what DKMS refuses, is an error
// naming the line or the directive; nothing is written.
func TestLoadErrors(t *testing.T) {
	defer func(d time.Duration) { evalTimeout = d }(evalTimeout)
	evalTimeout = 200 * time.Millisecond
	base := "PACKAGE_NAME=x\nPACKAGE_VERSION=1\n"
	victim := filepath.Join(t.TempDir(), "victim")
	for _, tc := range []struct{ conf, want string }{
		{"PACKAGE_VERSION=1\n", "no PACKAGE_NAME: DKMS refuses the package without one"},
		{"PACKAGE_NAME=x\n", "no PACKAGE_VERSION"},
		{base + "rm -rf /tmp/x\n", "dkms.conf:3: rm: lkmtest evaluates a dkms.conf without running other programs than"},
		{base + "if true; then\n  curl http://example\nfi\n", "dkms.conf:4: curl:"},
		{base + "CMD=ls\n$CMD /\n", "dkms.conf:4: a command whose name is computed ($CMD) is not supported"},
		{base + "sed -i s/a/b/ Makefile\n", "dkms.conf:3: sed -i writes a file"},
		{base + "eval MAKE=x\n", "dkms.conf:3: eval:"},
		{base + "echo hi > " + victim + "\n", "lkmtest evaluates a dkms.conf without writing files"},
		{base + "MAKE[0]=\"make\n", "dkms.conf:3:9: reached EOF without closing quote"},
		{base + "BUILT_MODULE_NAME[0]=x.ko\n", `BUILT_MODULE_NAME[0]="x.ko": the name without .ko or .o (x)`},
		{base + "BUILT_MODULE_NAME[1]=b\n", "no BUILT_MODULE_NAME[0]"},
		{base + "BUILT_MODULE_NAME[0]=a\nBUILT_MODULE_LOCATION[0]=../up\n", "a directory inside the package"},
		{base + "AUTOINSTALL=maybe\n", `AUTOINSTALL="maybe": DKMS accepts only yes or no`},
		{base + "BUILD_EXCLUSIVE_KERNEL=\"^(6\"\n", `BUILD_EXCLUSIVE_KERNEL="^(6": not a regular expression`},
		{base + "PATCH[0]=../../etc/passwd\n", "a file under the package's patches/ directory"},
		{base + "while true; do :; done\n", "took more than"},
	} {
		_, err := load(t, tc.conf, env(t, "6.1.192", "x86_64"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.conf, err, tc.want)
		}
	}
	if _, err := os.Stat(victim); err == nil {
		t.Error("evaluating a dkms.conf wrote a file")
	}
	// Check finds the same mistakes without a kernel.
	f := filepath.Join(t.TempDir(), ConfName)
	os.WriteFile(f, []byte(base+"\n\nmake modules\n"), 0o644)
	if err := Check(f); err == nil || !strings.Contains(err.Error(), ConfName+":5: make:") {
		t.Errorf("Check: %v", err)
	}
}
