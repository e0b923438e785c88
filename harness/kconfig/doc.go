// Package kconfig parses, merges and validates kernel configuration
// fragments. It is pure: text in, values out.
//
// A fragment holds "CONFIG_X=value" and "# CONFIG_X is not set" lines. Merge
// applies fragments in order (later ones win) and keeps where each option
// came from; Validate compares the requested options with the .config that
// olddefconfig produced and lists every one that did not survive.
package kconfig
