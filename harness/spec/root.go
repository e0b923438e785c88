package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A module is built inside a mirror of the tree around it (see
// harness/kbuild/tree.go), so that relative includes and objects reaching
// up find their files. TreeRoot says which tree.

// reachUp matches a run of ".." path components ("../..", "../../klib.o").
var reachUp = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])((?:\.\./)*\.\.)(?:/|[^A-Za-z0-9_.]|$)`)

// buildFileExt are the files whose relative paths say how far up a module's
// build reaches.
var buildFileExt = []string{".c", ".h", ".S", ".mk", ".mak"}

// TreeRoot is the directory the spec's modules are built in a mirror of:
// root: when the spec sets it (relative to the spec), else the smallest
// directory that holds the spec, every module directory and every path the
// modules' Makefiles, Kbuild files and sources reach with "../".
func (s *Spec) TreeRoot() (string, error) {
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return "", err
	}
	if s.Root != "" {
		return filepath.Join(dir, s.Root), nil
	}
	root := dir
	for _, m := range s.Modules {
		md := filepath.Join(dir, m)
		reach := md
		for up := ReachUp(md); up > 0; up-- {
			reach = filepath.Dir(reach)
		}
		// A "../" that climbs out of the repository (a comment naming a
		// path elsewhere) stops at its top: a build reads nothing above it.
		if top := gitTop(md); top != "" && !within(top, reach) {
			reach = top
		}
		root = commonAncestor(root, commonAncestor(md, reach))
	}
	return root, nil
}

// gitTop is the nearest directory at or above dir that holds a .git entry
// ("" when none).
func gitTop(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// within reports whether p is dir or inside it.
func within(dir, p string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../")
}

// ReachUp is how many directories above dir the build files and sources in
// dir (and below it) name with "../" (0 when none): "../../klib.o" in
// dir/Makefile reaches 2 up, "../include" in dir/sub/Kbuild reaches 0.
func ReachUp(dir string) int {
	most := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "lkmtest-out") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isBuildFile(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		// How deep the file is below dir: its "../" start from there.
		depth := 0
		if d := filepath.Dir(rel); d != "." {
			depth = strings.Count(d, "/") + 1
		}
		for _, m := range reachUp.FindAllSubmatch(b, -1) {
			if n := strings.Count(string(m[1]), "..") - depth; n > most {
				most = n
			}
		}
		return nil
	})
	return most
}

func isBuildFile(name string) bool {
	if name == "Makefile" || name == "Kbuild" || name == "makefile" || name == "GNUmakefile" || strings.HasPrefix(name, "Makefile.") {
		return true
	}
	for _, e := range buildFileExt {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}

func commonAncestor(a, b string) string {
	for {
		if within(a, b) {
			return a
		}
		parent := filepath.Dir(a)
		if parent == a {
			return a
		}
		a = parent
	}
}

// checkRoot validates root: it must be a directory, relative to the spec,
// that contains every module directory.
func (s *Spec) checkRoot(checkDirs bool, bad badFunc) {
	if s.Root == "" {
		return
	}
	at := s.at("root")
	if filepath.IsAbs(s.Root) {
		bad(at, "root %q must be relative to the spec (e.g. root: ../..)", s.Root)
		return
	}
	if !checkDirs {
		return
	}
	root := filepath.Join(s.Dir, s.Root)
	st, err := os.Stat(root)
	switch {
	case err != nil:
		bad(at, "root %q does not exist (it is %s): give the directory that holds the modules and what they include", s.Root, root)
		return
	case !st.IsDir():
		bad(at, "root %q is a file, not a directory", s.Root)
		return
	}
	absRoot, _ := filepath.Abs(root)
	for _, m := range s.Modules {
		md, _ := filepath.Abs(filepath.Join(s.Dir, m))
		if r, err := filepath.Rel(absRoot, md); err != nil || r == ".." || strings.HasPrefix(r, "../") {
			bad(at, "root %q does not contain the module directory %q: give a directory above both", s.Root, m)
		}
	}
}
