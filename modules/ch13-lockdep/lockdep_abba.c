// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lockdep_abba: lockdep catches an AB-BA lock order (Linux Kernel
 * Programming, chapter 13, "deadlock_eg_AB-BA"). The rule is: lockA, then
 * lockB. With lock_ooo=1 the module also takes them the other way round.
 * It does so from one task, one order after the other, so nothing ever
 * deadlocks; lockdep still reports the possible circular dependency, which
 * is its point: it finds the deadlock before it happens. (The book runs the
 * two orders in two kthreads on two CPUs, which can really deadlock.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/spinlock.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("lockdep: AB-BA lock ordering");
MODULE_LICENSE("Dual MIT/GPL");

static int lock_ooo;
module_param(lock_ooo, int, 0444);
MODULE_PARM_DESC(lock_ooo, "1: also take the locks out of order (B then A)");

static DEFINE_SPINLOCK(lockA);
static DEFINE_SPINLOCK(lockB);

static int __init lockdep_abba_init(void)
{
	pr_info("inserted (param: lock_ooo=%d)\n", lock_ooo);

	spin_lock(&lockA);
	spin_lock(&lockB);
	pr_info("took lockA --> lockB\n");
	spin_unlock(&lockB);
	spin_unlock(&lockA);

	if (lock_ooo) {
		spin_lock(&lockB);
		spin_lock(&lockA);
		pr_info("took lockB --> lockA\n");
		spin_unlock(&lockA);
		spin_unlock(&lockB);
	}
	return 0;
}

static void __exit lockdep_abba_exit(void)
{
	pr_info("removed\n");
}

module_init(lockdep_abba_init);
module_exit(lockdep_abba_exit);
