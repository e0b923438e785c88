// Package cache manages lkmtest's content-addressed cache directory
// ($XDG_CACHE_HOME/lkmtest, else ~/.cache/lkmtest): kernels, u-root base
// images, module builds, snapshots, downloads (Dir.Ensure), and small
// memoized values such as compiler versions (Dir.Memo).
//
// An entry is a directory KIND/KEY, the key a hash of everything that
// determines its content (Key). What the package promises:
//   - An entry is published atomically: it is built in a temporary
//     directory next to its final place, marked complete, and renamed into
//     place, so a reader sees either no entry or a complete one.
//   - Two processes never build the same entry at once: Ensure holds an
//     exclusive flock on the entry's lock file, and a waiter reuses what
//     the first one published.
//   - A failed build leaves nothing: its temporary directory is removed. A
//     killed build leaves only that directory (or an entry without its
//     completion mark), which the next Ensure of the key removes before
//     building again.
//   - The directories it makes are 0700, and the files of Create and Memo
//     0600: a cache holds only its owner's data. WriteFileAtomic replaces a
//     file by a rename, never in place.
//   - A full disk is reported as such, naming the directory (ErrNoSpace).
package cache
