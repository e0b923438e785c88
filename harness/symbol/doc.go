// Package symbol maps the frames of kernel crash reports to source lines,
// with the DWARF of the test's own modules (lkmtest builds them with -g,
// whatever the kernel's DEBUG_INFO). It reads the .ko files with Go's
// debug/elf and debug/dwarf (DWARF 4 and 5); nothing runs in the guest and
// no binutils are needed.
//
// A .ko is a relocatable object: each of its code sections (.text,
// .init.text, .exit.text...) starts at address 0, so its DWARF alone
// cannot tell them apart. Table places every code section at an address
// of its own before applying the relocations, then finds a frame
// ("func+0x1a/0x40 [mod]") at the address of func's symbol plus the
// offset.
//
// It promises: a frame of a module it has is symbolized to the file and
// line of the instruction (the faulting one for the pc, the call for a
// return address), or left as it is with the reason (no debug info: a
// prebuilt module; no such symbol); a module's files are read once per
// table.
package symbol
