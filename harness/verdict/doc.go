// Package verdict judges what happened in the guest against a test's spec.
//
// A failing test is a value, not an error: Judge returns a Result whose
// result.Outcome tells every ending apart (PASS, FAIL, CRASH, TIMEOUT, LOST, SKIP,
// ERROR) with a Reason naming the step and the expectation, and the kernel
// log excerpt that shows it.
package verdict
