// Package proc starts the host programs of lkmtest's builds (make, the
// compilers) so that they cannot outlive it: each runs in its own process
// group, cancelled as a whole, and is killed when lkmtest dies (a kill -9
// of lkmtest must not leave make writing into a cache entry the next run
// removes).
package proc
