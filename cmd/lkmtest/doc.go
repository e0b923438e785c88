// Command lkmtest builds Linux kernels and out-of-tree modules, boots them in
// QEMU, loads the modules inside the guest and judges the kernel log against
// each test's spec. Run "lkmtest --help" for the commands: run, shell, list,
// verdict, new, init, kernel (src, config, build, fragments, key), matrix
// (boot and compile tiers), merge,
// doctor, completion and version.
//
// A command parses its flags, calls package harness (the pipeline) or a
// stage, and prints: the packages below never print. Results go to
// standard output; progress and the run directory's path go to standard
// error in every format, so "--format json" output can be piped.
//
// The exit status is part of its interface: 0 when every test that ran
// passed, 1 when one failed, crashed, timed out, was lost or could not run,
// 2 on a usage or infrastructure error (a bad spec or flag, a missing
// tool, with the line that installs it), 3 when no test ran (every one
// skipped), and 130 when interrupted (the VMs are stopped and
// results.json says so).
package main
