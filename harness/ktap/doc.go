// Package ktap parses KTAP, the test output format of KUnit and the
// kernel's selftests (Documentation/dev-tools/ktap.rst), from kernel log
// lines: version lines, plans, nested subtests indented by four spaces,
// "ok"/"not ok" result lines with SKIP and TODO directives, and diagnostic
// lines (Parse), in the shapes KUnit prints on 6.1 and 6.12. Test.Cases
// flattens the tree into cases named "suite.case", as the verdict judges
// and the reports list them.
//
// What it promises: it is pure (lines in, values out), and it never fails
// on malformed input: what does not fit is recorded as a problem of the
// enclosing test, which Cases then lists as a failed case, and a test the
// plan announced without a result line is MISSING.
package ktap
