#!/usr/bin/env bash
# Regenerates the golden console logs captured from lkmtest's own VMs: the
# crashers fixture (harness/testdata/modules/crashers) is loaded with one
# kind of problem per test, on 6.1 and 6.12, x86_64 and arm64, and each
# test's console.log is saved as testdata/<kind>/<kernel>-<arch>-<name>.log
# under a header stating what the catalogue must find. The expectations
# below come from the fixture's source (its functions, file and lines), not
# from lkmtest's output. Run from the repository root: bash harness/klog/testdata/harvest.sh
set -euo pipefail
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fixtures=harness/testdata/modules
go build -o "$out/lkmtest" ./cmd/lkmtest
"$out/lkmtest" run --out "$out/run" --arch x86_64,arm64 --kernel 6.1,6.12 \
	$fixtures/crash-{warn,bug,null,sleep-atomic,sched-atomic,list,refcount,softlockup,panic} || true

src=$fixtures/crashers/crashers.c
line() { grep -n "$1" "$src" | head -1 | cut -d: -f1; }

# header NAME ARCH: the expected report of fixture NAME on ARCH.
header() {
	case "$1" in
	warn) printf 'KIND: WARNING\nTITLE: WARNING in crashers_warn\nFUNC: crashers_warn\nMODULE: crashers\n' ;;
	bug) printf 'KIND: BUG\nTITLE: kernel BUG at crashers.c:%s\nFUNC: crashers_bug\nMODULE: crashers\nOOPS: true\n' "$(line 'BUG();')" ;;
	null) if [ "$2" = x86_64 ]; then
		printf 'KIND: BUG\nTITLE: BUG: kernel NULL pointer dereference\nFUNC: crashers_null\nMODULE: crashers\nOOPS: true\n'
	else
		printf 'KIND: OOPS\nTITLE: unable to handle kernel NULL pointer dereference\nFUNC: crashers_null\nMODULE: crashers\nOOPS: true\n'
	fi ;;
	sleep-atomic) printf 'KIND: ATOMIC_SLEEP\nTITLE: BUG: sleeping function called from invalid context at crashers.c:%s\n' "$(line 'might_sleep();')" ;;
	# Returning from init after the scheduler reset the preempt count also warns (initcall preemption imbalance).
	sched-atomic) printf 'KIND: ATOMIC_SLEEP\nTITLE: BUG: scheduling while atomic\nCOUNT: 2\n' ;;
	list) printf 'KIND: LIST_CORRUPTION\nTITLE: list corruption in list_add\n' ;;
	refcount) printf 'KIND: REFCOUNT\nTITLE: refcount_t: decrement hit 0; leaking memory\n' ;;
	softlockup) printf 'KIND: SOFT_LOCKUP\nTITLE: soft lockup\nFUNC: crashers_softlockup\nMODULE: crashers\n' ;;
	panic) printf 'KIND: PANIC\nTITLE: kernel panic: crashers: deliberate panic\n' ;;
	esac
}

dir=harness/klog/testdata
for d in "$out"/run/*/fixture-crash-*; do
	target=$(basename "$(dirname "$d")")   # 6.1.192-x86_64
	name=${d##*/fixture-crash-}
	arch=${target##*-}
	kind=$(header "$name" "$arch" | sed -n 's/^KIND: //p' | tr 'A-Z_' 'a-z-')
	mkdir -p "$dir/$kind"
	{
		header "$name" "$arch"
		echo "# Console log of lkmtest's crashers fixture, kind=${name//-/_}, on $target (harvest.sh)."
		echo
		cat "$d/console.log"
	} > "$dir/$kind/$target-$name.log"
done
ls "$dir"/*/ | wc -l
