// Package modbuild is the module-build stage: it builds a test's
// out-of-tree modules (make -C <kernel build dir> M=...) and its static C
// helper programs against one built kernel, and caches both.
//
// It promises: the user's tree is never written to (modules build in a
// mirror of it, under the cache); messages name the user's real paths; a
// module build is reused only when the module directory, every file
// outside it that its last build read, and the Module.symvers it linked
// against are unchanged, and a source edited while make runs is never
// cached; a directory of which some modules fail still yields the others
// (Set.Failed, Set.Errors say why the rest are missing); directories of
// one spec that use each other's exports build in whatever order
// modules: lists them.
package modbuild
