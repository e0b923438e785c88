// Package klog turns kernel log text into values: /dev/kmsg records
// (ParseRecord), and crash reports found in a log (Find), classified by the
// keyed pattern table in patterns.go.
//
// The package is pure: bytes in, values out, no processes and no I/O, so the
// guest agent, the verdict engine and "lkmtest verdict" on a saved run all use
// the same code.
package klog
