// Package result is lkmtest's one result model: the outcomes, the cell a
// test ran on and its label, and the record of a test on a cell, which is
// both a test's result.json and an entry of a run's results.json. It is
// plain data, with no behaviour beyond ordering outcomes and naming cells.
//
// It promises: the JSON of a Test changes meaning only with a new Schema
// (new fields may appear); Outcome.Failed is the one definition of "did
// not pass" (everything but PASS and SKIP); Cell.Label is the one name of
// a cell ("6.1.192-x86_64", "6.1.192-x86_64+debug" for a spec's kernel
// variant) in every table, file and report.
package result
