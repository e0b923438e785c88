package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/lkmtest/lkmtest/harness/result"
)

// Annotations returns GitHub Actions workflow commands ("::error
// file=...,line=...::...") for every test that did not pass: one at the
// spec line of the failed expectation and, for a crash report that names
// a source line of the test's own module ("WARNING ... at hello.c:29"),
// one at that line. Paths are relative to root (the repository checkout);
// files outside it are annotated without a file.
func (r *Run) Annotations(root string) []string {
	var out []string
	for _, t := range r.Results {
		if !t.Outcome.Failed() {
			continue
		}
		title := fmt.Sprintf("%s: %s on %s", t.Outcome, t.Test, t.Cell)
		file, line := t.File, t.Line
		if t.SpecLess {
			// No test.yaml to point at: the directory's build file.
			file, line = buildFile(filepath.Dir(t.File)), 0
		}
		out = append(out, annotation("error", relPath(root, file), line, title, t.Reason))
		seen := map[string]bool{}
		// A module that did not compile: one annotation at the compiler's
		// first error ("/src/mod/bad.c:9:2: error: ...") in the reason.
		reasons := []string{t.Reason}
		for _, st := range t.Steps {
			reasons = append(reasons, st.Reason)
		}
		for _, reason := range reasons {
			for _, m := range compilerErrorRE.FindAllStringSubmatch(reason, -1) {
				if seen[m[1]+":"+m[2]] {
					continue
				}
				seen[m[1]+":"+m[2]] = true
				var line int
				fmt.Sscanf(m[2], "%d", &line)
				out = append(out, annotation("error", relPath(root, m[1]), line,
					fmt.Sprintf("build error in %s on %s", t.Test, t.Cell), m[3]))
			}
		}
		for _, c := range t.Crashes {
			if c.Allowed || c.Source == "" || seen[c.Source] {
				continue
			}
			seen[c.Source] = true
			file, line, ok := moduleSource(append([]string{filepath.Dir(t.File)}, t.Modules...), c.Source)
			if !ok {
				continue
			}
			out = append(out, annotation("error", relPath(root, file), line,
				fmt.Sprintf("%s in %s on %s", c.Kind, t.Test, t.Cell), c.Title))
		}
	}
	return out
}

// compilerErrorRE finds a compiler error with its absolute source path in
// a reason: the file, the line and the message.
var compilerErrorRE = regexp.MustCompile(`(/[^\s:]+\.(?:c|h|S)):(\d+)(?::\d+)?: ((?:fatal )?error: [^\n]*?)(?: \(full log: [^)]*\))?(?:;|$|\n)`)

// moduleSource finds a report's "file.c:123" in the test's directories
// (the spec's and its modules', or below them) and returns its path.
func moduleSource(dirs []string, source string) (string, int, bool) {
	i := strings.LastIndexByte(source, ':')
	var line int
	if i < 0 {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(source[i+1:], "%d", &line); err != nil {
		return "", 0, false
	}
	if filepath.IsAbs(source[:i]) {
		if _, err := os.Stat(source[:i]); err == nil {
			return source[:i], line, true
		}
		return "", 0, false
	}
	for _, dir := range dirs {
		if f := findFile(dir, filepath.FromSlash(source[:i])); f != "" {
			return f, line, true
		}
	}
	return "", 0, false
}

// findFile returns dir/name, or the first file below dir whose path ends
// in /name; "" when there is none.
func findFile(dir, name string) string {
	if dir == "" || name == "" {
		return ""
	}
	var found string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (p == filepath.Join(dir, name) || strings.HasSuffix(p, string(filepath.Separator)+name)) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// relPath makes p relative to root; "" when it is outside root.
func relPath(root, p string) string {
	if p == "" {
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(rootAbs, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}

// annotation formats one workflow command; its values are escaped as the
// runner expects (properties also escape ":" and ",").
func annotation(level, file string, line int, title, msg string) string {
	var props []string
	if file != "" {
		props = append(props, "file="+escapeProperty(file))
		if line > 0 {
			props = append(props, fmt.Sprintf("line=%d", line))
		}
	}
	props = append(props, "title="+escapeProperty(title))
	return fmt.Sprintf("::%s %s::%s", level, strings.Join(props, ","), escapeData(msg))
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// outcomeMark is an outcome in the step summary.
var outcomeMark = map[result.Outcome]string{
	result.Pass: "✅ PASS", result.Skip: "⏭️ SKIP", result.Fail: "❌ FAIL", result.Timeout: "⏱️ TIMEOUT",
	result.Crash: "💥 CRASH", result.Lost: "❓ LOST", result.Error: "⚠️ ERROR",
}

// WriteSummary writes a Markdown summary of the run (for
// $GITHUB_STEP_SUMMARY): totals, a table of tests by cell and the details
// of every failure.
func (r *Run) WriteSummary(w io.Writer) error {
	var b strings.Builder
	cells := r.CellLabels()
	status := "✅ all passed"
	if !r.OK() {
		status = "❌ failures"
	}
	fmt.Fprintf(&b, "### lkmtest: %s\n\n", status)
	fmt.Fprintf(&b, "%d tests: %d passed, %d failed, %d skipped", r.Totals.Tests, r.Totals.Passed, r.Totals.Failed, r.Totals.Skipped)
	if len(r.Shards) > 0 {
		fmt.Fprintf(&b, " (shards %s)", strings.Join(r.Shards, ", "))
	}
	b.WriteString("\n\n| test |")
	for _, c := range cells {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(cells)))
	b.WriteString("\n")
	byTest := map[string]map[string]result.Test{}
	var names []string
	for _, t := range r.Results {
		if byTest[t.Row()] == nil {
			byTest[t.Row()] = map[string]result.Test{}
			names = append(names, t.Row())
		}
		byTest[t.Row()][t.Cell] = t
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "| %s |", mdEscape(n))
		for _, c := range cells {
			t, ok := byTest[n][c]
			if !ok {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %s %.1fs |", outcomeMark[t.Outcome], float64(t.DurationNS)/1e9)
		}
		b.WriteString("\n")
	}
	for _, t := range r.Results {
		if !t.Outcome.Failed() {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s <b>%s</b> on %s: %s</summary>\n\n", t.Outcome, mdEscape(t.Row()), t.Cell, mdEscape(t.Reason))
		if w := t.Where(); w != "" {
			fmt.Fprintf(&b, "at `%s`\n\n", w)
		}
		if len(t.Excerpt) > 0 {
			b.WriteString("```\n" + strings.ReplaceAll(strings.Join(t.Excerpt, "\n"), "```", "'''") + "\n```\n")
		}
		b.WriteString("</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// buildFile is the Kbuild (else Makefile) of a module directory: what
// names a smoke test's module on disk.
func buildFile(dir string) string {
	for _, f := range []string{"Kbuild", "Makefile"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return filepath.Join(dir, f)
		}
	}
	return dir
}
