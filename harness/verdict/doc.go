// Package verdict judges what happened in the guest against a test's spec.
//
// A Judge compares the agent's response to each step with the spec
// (Judge.Step gives a StepResult: the errno or signal, the ordered log
// patterns, the model, the KTAP cases, the crash reports and the taint
// flags), carrying the values log patterns capture to later steps;
// Result.Add folds the steps into the test's Result. JudgeLost judges a
// guest that stopped answering from its console log, and Replay judges a
// saved run directory again without booting anything (lkmtest verdict).
// Record turns a Result into the record that result.json and results.json
// keep (package result).
//
// What it promises:
//   - A failing test is a value, not an error: its Outcome (PASS, FAIL,
//     CRASH, TIMEOUT, LOST, SKIP, ERROR) tells every ending apart, with a
//     Reason naming the step and the expectation, the spec line it points
//     at, and the kernel log excerpt that shows it.
//   - The first step that does not pass sets the test's outcome; a worse
//     one later (a crash after a failure) overrides it.
//   - A guest that went away is CRASH when its console holds a crash
//     report, TIMEOUT when the host gave up waiting, LOST otherwise.
//   - A Judge reads nothing but the spec and the responses it is given, so
//     a run replayed from its transcript is judged as it was live (by the
//     spec as it is now, when it was edited since).
package verdict
