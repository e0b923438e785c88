// Package klog turns kernel log text into values: /dev/kmsg records
// (ParseRecord), and the crash reports found in a log (Find: BUG, Oops,
// WARNING, panic, lockdep, KASAN, OOM kills, soft lockups...), classified
// by the keyed pattern table in patterns.go, each with its kind, a stable
// title, its header line and the faulting function and module.
//
// The package is pure: bytes in, values out, no processes and no I/O, and
// it imports nothing of lkmtest, so the guest agent, the verdict engine and
// "lkmtest verdict" on a saved run all judge a log with the same code.
// Find takes console lines (with printk timestamps) and kmsg records alike,
// and never fails: a report the log ends inside is still reported, marked
// Incomplete.
package klog
