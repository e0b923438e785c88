// Package kconfig parses, merges and validates kernel configuration
// fragments. It is pure: text in, values out, no files read and no
// processes started.
//
// A fragment holds "CONFIG_X=value" and "# CONFIG_X is not set" lines
// (Parse). Merge applies fragments in order, a later value overriding an
// earlier one; Without and Renamed apply the quirk table's drops and
// renames. Validate compares the requested options with the .config that
// olddefconfig produced.
//
// What it promises:
//   - Every option keeps the file:line of the fragment line that set it,
//     through merges and renames, and a malformed line is an error at its
//     file:line.
//   - Validate lists every requested option that did not survive, each
//     with that position, what was asked and what the kernel has
//     (ValidationError), not just the first one.
//   - Config.String renders equal configurations equally (sorted), so it
//     can be hashed into cache keys.
package kconfig
