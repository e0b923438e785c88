// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lockdep_recursive: lockdep catches taking a lock of a class already held
 * (Linux Kernel Programming, chapter 13, "thrd_showall_buggy", where
 * get_task_comm() under task_lock() takes the task's alloc_lock twice and
 * the CPU deadlocks). Here two spinlocks of one lock class (initialized at
 * one call site) are nested without a nesting annotation: lockdep reports
 * "possible recursive locking detected" although these are two different
 * locks, so nothing hangs. With fixed=1 the inner one is taken with
 * spin_lock_nested(), which tells lockdep the nesting is intended.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/spinlock.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("lockdep: recursive locking of one lock class");
MODULE_LICENSE("Dual MIT/GPL");

static int fixed;
module_param(fixed, int, 0444);
MODULE_PARM_DESC(fixed, "1: annotate the nesting (spin_lock_nested)");

struct node {
	spinlock_t lock;
	int value;
};

static struct node parent, child;

static void node_init(struct node *n, int value)
{
	spin_lock_init(&n->lock);	/* one call site: one lockdep class */
	n->value = value;
}

static int __init lockdep_recursive_init(void)
{
	int sum;

	node_init(&parent, 1);
	node_init(&child, 2);
	spin_lock(&parent.lock);
	if (fixed)
		spin_lock_nested(&child.lock, SINGLE_DEPTH_NESTING);
	else
		spin_lock(&child.lock);
	sum = parent.value + child.value;
	spin_unlock(&child.lock);
	spin_unlock(&parent.lock);
	pr_info("sum = %d (fixed=%d)\n", sum, fixed);
	return 0;
}

static void __exit lockdep_recursive_exit(void)
{
	pr_info("removed\n");
}

module_init(lockdep_recursive_init);
module_exit(lockdep_recursive_exit);
