// Package cache manages lkmtest's content-addressed cache directory
// ($XDG_CACHE_HOME/lkmtest, else ~/.cache/lkmtest).
//
// An entry is a directory named by a key (a hash of everything that
// determines its content). It is built in a temporary directory next to its
// final place and published with one rename, under an exclusive flock on
// the entry's lock file, so a reader sees either no entry or a complete one,
// and two processes never build the same entry at once. A killed build leaves
// only a temporary directory, which the next Ensure of that key removes.
package cache
