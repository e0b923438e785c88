// Package progress carries progress events of long work (kernel builds,
// downloads, test VMs) from the pipeline to whoever shows them. The
// pipeline sends events through the context (With, Send); the CLI decides
// how to show them (a live view on a terminal, nothing extra otherwise).
// ObjectCounter counts kbuild's objects in a build's output, and Reader
// the bytes of a download.
//
// What it promises: progress is optional and never changes the work. With
// no Func in the context, Send does nothing (Enabled says so, to skip
// costly bookkeeping); ObjectCounter only counts, beside the build log,
// and never fails a write; Reader returns what it reads unchanged. A Func
// must be safe for concurrent use: tasks run in parallel.
package progress
