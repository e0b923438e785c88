package dkms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
)

// ConfName is the name of a DKMS package's configuration file.
const ConfName = "dkms.conf"

// Has reports whether dir is a DKMS package (holds a dkms.conf).
func Has(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ConfName))
	return err == nil && st.Mode().IsRegular()
}

// Env is what DKMS defines for a dkms.conf, pointed at lkmtest's kernel
// and directories.
type Env struct {
	// KernelVer is the target kernel's release ($kernelver: "6.1.192").
	KernelVer string
	// Arch is DKMS's $arch, uname -m of the target (x86_64, aarch64).
	Arch string
	// KernelSourceDir is $kernel_source_dir: the kernel build directory
	// modules are built against (make -C ... M=).
	KernelSourceDir string
	// DKMSTree is $dkms_tree (DKMS's /var/lib/dkms): the package builds
	// in $dkms_tree/<PACKAGE_NAME>/<PACKAGE_VERSION>/build.
	DKMSTree string
	// SourceTree is $source_tree (DKMS's /usr/src).
	SourceTree string
	// InstallTree is $install_tree (DKMS's /lib/modules): a build command
	// naming $install_tree/<kernelver>/build gets KernelSourceDir instead.
	InstallTree string
	// Jobs is DKMS's parallel_jobs (make -j, and what nproc answers).
	Jobs int
}

// Module is one module a package's build must produce.
type Module struct {
	// Index is its n in BUILT_MODULE_NAME[n].
	Index int
	// Name is the module's name (the .ko without .ko).
	Name string
	// Location is BUILT_MODULE_LOCATION[n], relative to the build
	// directory, with a trailing slash ("" for the top).
	Location string
}

// Path is the module's .ko relative to the build directory.
func (m Module) Path() string { return m.Location + m.Name + ".ko" }

// Conf is a dkms.conf evaluated for one kernel.
type Conf struct {
	// File is the dkms.conf.
	File string
	// PackageName and PackageVersion name the package.
	PackageName, PackageVersion string
	// Make is the build command DKMS chose for the kernel (MAKE[n] whose
	// MAKE_MATCH[n] matches it, else MAKE[0], else DKMS's default), as
	// written; Command is what runs.
	Make string
	// MakeDirective names where Make came from ("MAKE[0]", or "" for the
	// default).
	MakeDirective string
	// Clean is CLEAN (read, not run).
	Clean string
	// Modules are the modules the build must produce.
	Modules []Module
	// Patches are the PATCH[n] whose PATCH_MATCH[n] matches the kernel (or
	// is empty), in order: files under the package's patches/.
	Patches []string
	// PreBuild and PostBuild are the PRE_BUILD and POST_BUILD scripts
	// (relative to the build directory, with their arguments).
	PreBuild, PostBuild string
	// AutoInstall is AUTOINSTALL=yes.
	AutoInstall bool
	// Excluded says why BUILD_EXCLUSIVE_* (or OBSOLETE_BY) rules the
	// kernel out ("" when it does not): DKMS skips the build.
	Excluded string
	// Env is what the file was evaluated with.
	Env Env
}

// BuildDir is where DKMS builds the package: $dkms_tree/<name>/<version>/build.
func (c *Conf) BuildDir() string {
	return filepath.Join(c.Env.DKMSTree, c.PackageName, c.PackageVersion, "build")
}

// Command is the shell command that builds the package, as DKMS runs it:
// Make with a leading "make" turned into "make -jN KERNELRELEASE=<kernelver>",
// and $install_tree/<kernelver>/build (DKMS's kernel directory, often
// written out in MAKE) replaced by the kernel lkmtest builds against.
func (c *Conf) Command() string {
	cmd := c.Make
	if strings.HasPrefix(cmd, "make") {
		jobs := ""
		if c.Env.Jobs > 0 {
			jobs = "-j" + strconv.Itoa(c.Env.Jobs) + " "
		}
		cmd = "make " + jobs + "KERNELRELEASE=" + c.Env.KernelVer + strings.TrimPrefix(cmd, "make")
	}
	if c.Env.InstallTree != "" {
		cmd = strings.ReplaceAll(cmd, strings.TrimRight(c.Env.InstallTree, "/")+"/"+c.Env.KernelVer+"/build", c.Env.KernelSourceDir)
	}
	return cmd
}

// Vars are the shell variables DKMS defines for a dkms.conf (and for the
// build command it evaluates).
func (e Env) Vars() []string {
	return []string{
		"kernelver=" + e.KernelVer, "arch=" + e.Arch, "kernel_source_dir=" + e.KernelSourceDir,
		"dkms_tree=" + e.DKMSTree, "source_tree=" + e.SourceTree, "install_tree=" + e.InstallTree,
	}
}

// Load evaluates the dkms.conf file for env (see the package comment) and
// returns its directives for that kernel.
func Load(ctx context.Context, file string, env Env) (*Conf, error) {
	if env.InstallTree == "" {
		env.InstallTree = "/lib/modules"
	}
	vars, err := evaluate(ctx, file, env)
	if err != nil {
		return nil, err
	}
	c := &Conf{File: file, Env: env}
	str := func(name string) string { return strings.TrimSpace(index(vars, name, 0)) }
	c.PackageName, c.PackageVersion = str("PACKAGE_NAME"), str("PACKAGE_VERSION")
	if c.PackageName == "" {
		return nil, fmt.Errorf("%s: no PACKAGE_NAME: DKMS refuses the package without one (add PACKAGE_NAME=\"name\")", file)
	}
	if c.PackageVersion == "" {
		return nil, fmt.Errorf("%s: no PACKAGE_VERSION: DKMS refuses the package without one (add PACKAGE_VERSION=\"1.0\")", file)
	}
	if strings.ContainsAny(c.PackageName+c.PackageVersion, "/\x00") || c.PackageName == ".." || c.PackageVersion == ".." {
		return nil, fmt.Errorf("%s: PACKAGE_NAME %q and PACKAGE_VERSION %q must not hold a slash", file, c.PackageName, c.PackageVersion)
	}
	c.Clean = index(vars, "CLEAN", 0)
	c.PreBuild, c.PostBuild = index(vars, "PRE_BUILD", 0), index(vars, "POST_BUILD", 0)
	switch a := index(vars, "AUTOINSTALL", 0); strings.ToLower(a) {
	case "yes":
		c.AutoInstall = true
	case "", "no":
	default:
		return nil, fmt.Errorf("%s: AUTOINSTALL=%q: DKMS accepts only yes or no", file, a)
	}
	if err := c.chooseMake(vars); err != nil {
		return nil, err
	}
	if err := c.modules(vars); err != nil {
		return nil, err
	}
	if err := c.patches(vars); err != nil {
		return nil, err
	}
	if c.Excluded, err = excluded(file, vars, env); err != nil {
		return nil, err
	}
	return c, nil
}

// index is element i of the array (or string, for i 0) name.
func index(vars map[string]expand.Variable, name string, i int) string {
	v, ok := vars[name]
	if !ok || !v.IsSet() {
		return ""
	}
	switch v.Kind {
	case expand.Indexed:
		if i < len(v.List) {
			return v.List[i]
		}
		return ""
	case expand.Associative:
		return v.Map[strconv.Itoa(i)]
	}
	if i == 0 {
		return v.Str
	}
	return ""
}

// length is one more than the highest index set in the array name.
func length(vars map[string]expand.Variable, name string) int {
	v, ok := vars[name]
	if !ok || !v.IsSet() {
		return 0
	}
	switch v.Kind {
	case expand.Indexed:
		return len(v.List)
	case expand.Associative:
		n := 0
		for k := range v.Map {
			if i, err := strconv.Atoi(k); err == nil && i+1 > n {
				n = i + 1
			}
		}
		return n
	}
	return 1
}

// chooseMake picks the build command as DKMS does: MAKE[0] unless
// MAKE_MATCH[0] is set, then the last MAKE[n] whose MAKE_MATCH[n] matches
// the kernel release, else the default.
func (c *Conf) chooseMake(vars map[string]expand.Variable) error {
	if index(vars, "MAKE_MATCH", 0) == "" {
		c.Make, c.MakeDirective = index(vars, "MAKE", 0), "MAKE[0]"
	}
	for i := 0; i < length(vars, "MAKE"); i++ {
		m, match := index(vars, "MAKE", i), index(vars, "MAKE_MATCH", i)
		if m == "" || match == "" {
			continue
		}
		ok, err := matches(match, c.Env.KernelVer)
		if err != nil {
			return fmt.Errorf("%s: MAKE_MATCH[%d]=%q: %w", c.File, i, match, err)
		}
		if ok {
			c.Make, c.MakeDirective = m, fmt.Sprintf("MAKE[%d]", i)
		}
	}
	if strings.TrimSpace(c.Make) == "" {
		c.Make, c.MakeDirective = fmt.Sprintf("make -C %s M=%s", c.Env.KernelSourceDir, c.BuildDir()), ""
	}
	return nil
}

// modules reads BUILT_MODULE_NAME[n] and BUILT_MODULE_LOCATION[n]: as many
// modules as the highest index of those and DEST_MODULE_NAME[n],
// DEST_MODULE_LOCATION[n] says.
func (c *Conf) modules(vars map[string]expand.Variable) error {
	n := 0
	for _, a := range []string{"BUILT_MODULE_NAME", "BUILT_MODULE_LOCATION", "DEST_MODULE_NAME", "DEST_MODULE_LOCATION"} {
		n = max(n, length(vars, a))
	}
	if n == 0 {
		n = 1 // the one module named after the package
	}
	for i := 0; i < n; i++ {
		m := Module{Index: i, Name: strings.TrimSpace(index(vars, "BUILT_MODULE_NAME", i)), Location: strings.TrimSpace(index(vars, "BUILT_MODULE_LOCATION", i))}
		if m.Name == "" && n == 1 {
			m.Name = c.PackageName
		}
		switch {
		case m.Name == "":
			return fmt.Errorf("%s: no BUILT_MODULE_NAME[%d]: DKMS needs one for every module the package lists (BUILT_MODULE_LOCATION, DEST_MODULE_NAME, DEST_MODULE_LOCATION)", c.File, i)
		case strings.HasSuffix(m.Name, ".ko") || strings.HasSuffix(m.Name, ".o"):
			return fmt.Errorf("%s: BUILT_MODULE_NAME[%d]=%q: the name without .ko or .o (%s), as DKMS requires", c.File, i, m.Name, strings.TrimSuffix(strings.TrimSuffix(m.Name, ".ko"), ".o"))
		case strings.Contains(m.Name, "/"):
			return fmt.Errorf("%s: BUILT_MODULE_NAME[%d]=%q: a name, not a path (its directory goes in BUILT_MODULE_LOCATION[%d])", c.File, i, m.Name, i)
		}
		if m.Location != "" {
			if filepath.IsAbs(m.Location) || strings.HasPrefix(filepath.Clean(m.Location), "..") {
				return fmt.Errorf("%s: BUILT_MODULE_LOCATION[%d]=%q: a directory inside the package (relative to it)", c.File, i, m.Location)
			}
			if !strings.HasSuffix(m.Location, "/") {
				m.Location += "/"
			}
		}
		c.Modules = append(c.Modules, m)
	}
	return nil
}

// patches lists the PATCH[n] that apply to the kernel.
func (c *Conf) patches(vars map[string]expand.Variable) error {
	for i := 0; i < length(vars, "PATCH"); i++ {
		p, match := index(vars, "PATCH", i), index(vars, "PATCH_MATCH", i)
		if p == "" {
			continue
		}
		if strings.Contains("/"+p+"/", "/../") || filepath.IsAbs(p) {
			return fmt.Errorf("%s: PATCH[%d]=%q: a file under the package's patches/ directory", c.File, i, p)
		}
		if match != "" {
			ok, err := matches(match, c.Env.KernelVer)
			if err != nil {
				return fmt.Errorf("%s: PATCH_MATCH[%d]=%q: %w", c.File, i, match, err)
			}
			if !ok {
				continue
			}
		}
		c.Patches = append(c.Patches, p)
	}
	return nil
}

// matches is bash's [[ s =~ re ]]: an unanchored extended regular
// expression.
func matches(re, s string) (bool, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return false, fmt.Errorf("not a regular expression lkmtest can use (%v)", err)
	}
	return r.MatchString(s), nil
}

// excluded says why the BUILD_EXCLUSIVE_* directives (and OBSOLETE_BY, a
// maximum kernel) rule env's kernel out, as DKMS checks them.
func excluded(file string, vars map[string]expand.Variable, env Env) (string, error) {
	str := func(name string) string { return strings.TrimSpace(index(vars, name, 0)) }
	if re := str("BUILD_EXCLUSIVE_KERNEL"); re != "" {
		ok, err := matches(re, env.KernelVer)
		if err != nil {
			return "", fmt.Errorf("%s: BUILD_EXCLUSIVE_KERNEL=%q: %w", file, re, err)
		}
		if !ok {
			return fmt.Sprintf("dkms.conf: BUILD_EXCLUSIVE_KERNEL=\"%s\" does not match kernel %s: DKMS does not build the package for it", re, env.KernelVer), nil
		}
	}
	maxName, maxV := "BUILD_EXCLUSIVE_KERNEL_MAX", str("BUILD_EXCLUSIVE_KERNEL_MAX")
	if maxV == "" && str("OBSOLETE_BY") != "" {
		maxName, maxV = "OBSOLETE_BY", str("OBSOLETE_BY")
	}
	if v := str("BUILD_EXCLUSIVE_KERNEL_MIN"); v != "" && padVersion(env.KernelVer) < padVersion(v) {
		return fmt.Sprintf("dkms.conf: kernel %s is older than BUILD_EXCLUSIVE_KERNEL_MIN=%q: DKMS does not build the package for it", env.KernelVer, v), nil
	}
	if maxV != "" && padVersion(env.KernelVer) > padVersion(maxV) {
		return fmt.Sprintf("dkms.conf: kernel %s is newer than %s=%q: DKMS does not build the package for it", env.KernelVer, maxName, maxV), nil
	}
	if re := str("BUILD_EXCLUSIVE_ARCH"); re != "" {
		ok, err := matches(re, env.Arch)
		if err != nil {
			return "", fmt.Errorf("%s: BUILD_EXCLUSIVE_ARCH=%q: %w", file, re, err)
		}
		if !ok {
			return fmt.Sprintf("dkms.conf: BUILD_EXCLUSIVE_ARCH=\"%s\" does not match arch %s: DKMS does not build the package for it", re, env.Arch), nil
		}
	}
	if list := str("BUILD_EXCLUSIVE_CONFIG"); list != "" {
		set, ok := kernelConfig(env.KernelSourceDir)
		if ok {
			for _, opt := range strings.Fields(list) {
				name, not := strings.CutPrefix(opt, "!")
				switch {
				case not && set[name]:
					return fmt.Sprintf("dkms.conf: BUILD_EXCLUSIVE_CONFIG=%q: the kernel has %s: DKMS does not build the package for it", list, name), nil
				case !not && !set[name]:
					return fmt.Sprintf("dkms.conf: BUILD_EXCLUSIVE_CONFIG=%q: the kernel has no %s (=y or =m): DKMS does not build the package for it", list, name), nil
				}
			}
		}
	}
	return "", nil
}

// kernelConfig reads the options set =y or =m in the kernel's
// include/config/auto.conf, else its .config, as DKMS does; false when
// there is neither (DKMS then does not check BUILD_EXCLUSIVE_CONFIG).
func kernelConfig(dir string) (map[string]bool, bool) {
	var b []byte
	var err error
	for _, f := range []string{"include/config/auto.conf", ".config"} {
		if b, err = os.ReadFile(filepath.Join(dir, f)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, false
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if name, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && (v == "y" || v == "m") {
			set[name] = true
		}
	}
	return set, true
}

var digits = regexp.MustCompile(`[0-9]+`)

// padVersion is DKMS's VER: every number padded to three digits, so that
// versions compare as strings ("6.1.9" < "6.1.10").
func padVersion(v string) string {
	return digits.ReplaceAllStringFunc(v, func(d string) string {
		if len(d) < 3 {
			return strings.Repeat("0", 3-len(d)) + d
		}
		return d
	})
}
