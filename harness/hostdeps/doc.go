// Package hostdeps is the list of Debian packages lkmtest needs on the
// host, kept as data in packages.txt (embedded): for each package, the
// hosts that need it and the program or file it provides. The Makefile's
// deps target installs that same file's packages, and 'lkmtest doctor'
// looks for what each one provides, so the two cannot disagree.
//
// It also holds MissingTool, the error of every stage that finds a host
// program or file missing: one message, naming the package that installs
// it and 'make deps'.
//
// It promises: packages.txt parses (All panics on a malformed line, and
// the package's tests fail first); an entry's provides field is a program
// looked up on the PATH or a file pattern, nothing is run to check it.
package hostdeps
