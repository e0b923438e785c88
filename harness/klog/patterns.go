package klog

import (
	"regexp"
	"sort"
	"strings"
)

// Kind classifies a crash report.
type Kind string

// The kinds of report Find knows. keep-sorted.
const (
	KindAtomicSleep Kind = "ATOMIC_SLEEP"
	KindBUG         Kind = "BUG"
	KindGPF         Kind = "GPF"
	KindHardLockup  Kind = "HARD_LOCKUP"
	KindHungTask    Kind = "HUNG_TASK"
	KindKASAN       Kind = "KASAN"
	KindKFENCE      Kind = "KFENCE"
	KindListCorrupt Kind = "LIST_CORRUPTION"
	KindLockdep     Kind = "LOCKDEP"
	KindOOM         Kind = "OOM"
	KindOops        Kind = "OOPS"
	KindPanic       Kind = "PANIC"
	KindRCUStall    Kind = "RCU_STALL"
	KindRefcount    Kind = "REFCOUNT"
	KindSlab        Kind = "SLAB"
	KindSoftLock    Kind = "SOFT_LOCKUP"
	KindUBSAN       Kind = "UBSAN"
	KindWarning     Kind = "WARNING"
)

// taints are the taint flags a report of each kind explains, as the
// letters of the kernel's taint string ("Tainted: G  D W"): a step whose
// spec allows the report may add them. A report that includes an Oops
// explains the letters of KindOops instead (see Report.Taints). keep-sorted.
var taints = map[Kind]string{
	KindAtomicSleep: "W",
	KindBUG:         "W",
	KindGPF:         "DW", // an oops: the task dies (D)
	KindHardLockup:  "W",
	KindHungTask:    "W",
	KindKASAN:       "B", // TAINT_BAD_PAGE
	KindKFENCE:      "BW",
	KindListCorrupt: "W",
	KindLockdep:     "W",
	KindOOM:         "W",
	KindOops:        "DW", // the task dies (D)
	KindPanic:       "W",
	KindRCUStall:    "W",
	KindRefcount:    "W",
	KindSlab:        "B", // SLUB debug taints TAINT_BAD_PAGE
	KindSoftLock:    "L", // TAINT_SOFTLOCKUP
	KindUBSAN:       "W",
	KindWarning:     "W", // TAINT_WARN
}

// KindNames lists the kinds, sorted.
func KindNames() []string {
	seen := map[string]bool{string(KindLeak): true}
	out := []string{string(KindLeak)}
	for _, p := range patterns {
		if !seen[string(p.Kind)] {
			seen[string(p.Kind)] = true
			out = append(out, string(p.Kind))
		}
	}
	sort.Strings(out)
	return out
}

// KnownKind reports whether name (any case) is a kind of the catalogue.
func KnownKind(name string) bool {
	for _, k := range KindNames() {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// pattern is one entry of the crash catalogue: a header line that starts a
// report of Kind, and how to title it.
type pattern struct {
	// Kind is the report's kind.
	Kind Kind
	// Needle is a literal every header line contains: lines without it
	// skip the regular expression (most lines have no needle at all).
	Needle string
	// Header matches the line that starts the report.
	Header *regexp.Regexp
	// Title is the report's title, with $1.. from Header's groups.
	Title string
	// Follows marks a header that belongs to the report just before it when
	// it comes within followWindow lines (x86 prints "Oops:" after "BUG:").
	Follows bool
	// Absorbs lists kinds whose header, within followWindow lines after
	// this one, is part of this report (the WARNING that follows a
	// "list_add corruption" message, the OOM kill after "invoked
	// oom-killer").
	Absorbs []Kind
	// Window, when set, replaces followWindow for Absorbs (an OOM report
	// prints a stack, Mem-Info and a task list before its kill line).
	Window int
	// Ends marks reports the kernel closes with "---[ end trace ... ]---":
	// one whose log stops before that line is Incomplete.
	Ends bool
	// Access: the report's next lines say the access ("Write of size 1 at
	// addr ..."), which joins the title before " in ": "KASAN:
	// slab-out-of-bounds Write of size 1 in func".
	Access bool
	// InFunc: the header names no function, so the title gets " in " and
	// the faulting function when the report shows it (syzkaller's
	// "BUG: kernel NULL pointer dereference in func").
	InFunc bool
}

// followWindow is how many lines after a header its follow-up headers may
// come (arm64 prints ~15 lines of abort information between "Unable to
// handle kernel ..." and "Internal error: Oops" on 6.12).
const followWindow = 24

// macros expanded in the table's regular expressions.
var macros = strings.NewReplacer(
	"{{FUNC}}", `([A-Za-z0-9_.]+)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?`,
	"{{FILE}}", `([A-Za-z0-9_./-]+(?::[0-9]+)?)`,
	"{{ADDR}}", `(?:0x)?[0-9a-f]+`,
)

func compile(re string) *regexp.Regexp { return regexp.MustCompile(macros.Replace(re)) }

// patterns is the crash catalogue; the first matching entry wins, so the
// specific ones come before the general ones.
var patterns = []pattern{
	{Needle: "Kernel panic", Kind: KindPanic, Header: compile(`Kernel panic - not syncing: (.*?)\s*$`), Title: "kernel panic: $1"},
	// KASAN's bug type may be several words: 5.4's double free is
	// "double-free or invalid-free" (testdata/kasan/5.4.301-*).
	{Needle: "BUG: KASAN", Kind: KindKASAN, Header: compile(`BUG: KASAN: ([a-z-]+(?: [a-z-]+)*) in {{FUNC}}`), Title: "KASAN: $1 in $2", Access: true},
	{Needle: "BUG: KFENCE", Kind: KindKFENCE, Header: compile(`BUG: KFENCE: ([a-z-]+(?: [a-z-]+)*) in {{FUNC}}`), Title: "KFENCE: $1 in $2"},
	{Needle: "soft lockup", Kind: KindSoftLock, Header: compile(`(?:BUG|watchdog): soft lockup - CPU#\d+ stuck`), Title: "soft lockup"},
	{Needle: "hard LOCKUP", Kind: KindHardLockup, Header: compile(`(?:watchdog: )?Watchdog detected hard LOCKUP on cpu \d+`), Title: "hard lockup"},
	{Needle: "scheduling while atomic", Kind: KindAtomicSleep, Header: compile(`BUG: scheduling while atomic`), Title: "BUG: scheduling while atomic"},
	{Needle: "sleeping function", Kind: KindAtomicSleep, Header: compile(`BUG: sleeping function called from invalid context at {{FILE}}`), Title: "BUG: sleeping function called from invalid context at $1"},
	{Needle: "list_", Kind: KindListCorrupt, Header: compile(`(list_add|list_del|list_replace)(?: corruption| double add)`), Title: "list corruption in $1",
		Absorbs: []Kind{KindWarning, KindBUG}, Ends: true},
	{Needle: "oom-killer", Kind: KindOOM, Header: compile(`^(\S+) invoked oom-killer:`), Title: "OOM: $1 invoked the OOM killer", Absorbs: []Kind{KindOOM}, Window: 400},
	{Needle: "Out of memory", Kind: KindOOM, Header: compile(`Out of memory(?: \(oom_kill_allocating_task\))?: Kill(?:ed)? process \d+ \((.+?)\)`), Title: "OOM: killed $1"},
	// SLUB debug; 6.12's object_err() adds a WARN_ON(1) after the object's
	// dump (up to a page of hex at 16 bytes a line).
	{Needle: "BUG ", Kind: KindSlab, Header: compile(`^BUG ([A-Za-z0-9_:.()-]+) \((?:Not tainted|Tainted: [^)]*)\): (.+?)\s*$`), Title: "slab: $2 in $1",
		Absorbs: []Kind{KindWarning}, Window: 300},
	{Needle: "BUG: kernel NULL", Kind: KindBUG, Header: compile(`BUG: kernel NULL pointer dereference`), Title: "BUG: kernel NULL pointer dereference", Ends: true, InFunc: true},
	{Needle: "BUG: unable", Kind: KindBUG, Header: compile(`BUG: unable to handle page fault`), Title: "BUG: unable to handle page fault", Ends: true, InFunc: true},
	{Needle: "BUG: ", Kind: KindBUG, Header: compile(`^BUG: ([^,:]+)`), Title: "BUG: $1"},
	{Needle: "kernel BUG at", Kind: KindBUG, Header: compile(`kernel BUG at {{FILE}}!`), Title: "kernel BUG at $1", Ends: true},
	{Needle: "general protection fault", Kind: KindGPF, Header: compile(`general protection fault`), Title: "general protection fault", Ends: true, InFunc: true},
	{Needle: "Unable to handle kernel", Kind: KindOops, Header: compile(`Unable to handle kernel (.+?) at virtual address`), Title: "unable to handle kernel $1", Ends: true, InFunc: true},
	{Needle: "Internal error: Oops", Kind: KindOops, Header: compile(`Internal error: Oops`), Title: "Oops", Follows: true},
	{Needle: "invalid opcode: ", Kind: KindOops, Header: compile(`^invalid opcode: [0-9a-f]+ \[#\d+\]`), Title: "Oops: invalid opcode", Follows: true},
	{Needle: "Oops: ", Kind: KindOops, Header: compile(`^Oops: `), Title: "Oops", Follows: true},
	{Needle: "WARNING: possible", Kind: KindLockdep, Header: compile(`WARNING: possible (circular locking dependency|recursive locking|irq lock inversion dependency) detected`), Title: "lockdep: possible $1 detected"},
	{Needle: "WARNING: ", Kind: KindLockdep, Header: compile(`WARNING: (inconsistent lock state|suspicious RCU usage|bad unlock balance detected!|held lock freed!|lock held when returning to user space!)`), Title: "lockdep: $1"},
	{Needle: "refcount_t: ", Kind: KindRefcount, Header: compile(`refcount_t: (.+?)\.?$`), Title: "refcount_t: $1", Absorbs: []Kind{KindWarning}, Ends: true},
	{Needle: "WARNING: CPU", Kind: KindWarning, Header: compile(`WARNING: CPU: \d+ PID: \d+ at {{FILE}} {{FUNC}}`), Title: "WARNING in $2", Ends: true},
	{Needle: "WARNING: ", Kind: KindWarning, Header: compile(`WARNING: {{FILE}} at {{FUNC}}, CPU#\d+`), Title: "WARNING in $2"},
	{Needle: "WARNING: at", Kind: KindWarning, Header: compile(`WARNING: at {{FILE}} {{FUNC}}`), Title: "WARNING in $2"},
	{Needle: "INFO: task", Kind: KindHungTask, Header: compile(`INFO: task (\S+?):\d+ blocked for more than \d+ seconds`), Title: "hung task: $1"},
	{Needle: "rcu: INFO", Kind: KindRCUStall, Header: compile(`rcu: INFO: rcu_\w+ (?:self-)?detected (?:expedited )?stalls?`), Title: "RCU stall"},
	{Needle: "UBSAN: ", Kind: KindUBSAN, Header: compile(`UBSAN: ([a-z-]+(?: [a-z-]+)*) in {{FILE}}`), Title: "UBSAN: $1 in $2"},
}

// guilty finds the faulting function and module in the lines that follow a
// header (x86 "RIP: 0010:func+0x1/0x2 [mod]", arm64 "pc : func+0x1/0x2 [mod]").
// A user-space RIP (segment 0033, after a syscall) names no kernel
// function, nor does a bare address.
var guilty = compile(`(?:RIP: 0010:|pc : )([A-Za-z_][A-Za-z0-9_.]*)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: \[([A-Za-z0-9_]+)\])?`)
