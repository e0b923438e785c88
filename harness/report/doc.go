// Package report turns the records of a run's tests (package result) into
// the files and lines people and CI systems read: results.json (the
// stable record of a run), JUnit XML, KTAP, GitHub Actions annotations and
// a Markdown step summary, and the terminal's table and text. It also
// merges the results of shards run apart (Merge).
//
// What it promises:
//   - Every writer works on a Run, which is plain data: a run can be
//     written, read back and merged without a kernel or a VM, and the
//     package imports no stage.
//   - results.json is versioned (Schema): within a version, fields are
//     only ever added, never renamed or removed; ReadJSON refuses another
//     schema.
//   - Merge refuses shards that overlap (the same test on the same cell)
//     and a kernel and arch of which some shards are missing: a shard
//     whose job died cannot let a merge say "all passed".
//   - Every test that did not pass gets an annotation at its spec line,
//     and one at its module's source line for a compiler error or a crash
//     report that names one.
package report
