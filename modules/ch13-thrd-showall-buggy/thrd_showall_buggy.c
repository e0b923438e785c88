// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * thrd_showall_buggy: the book's lockdep demo (Linux Kernel Programming,
 * chapter 13, "buggy_thrdshow_eg"), the bug kept on purpose. The module
 * walks every thread (for_each_process_thread() under rcu_read_lock()) and,
 * for each one, takes task_lock(t) to read its fields, then calls
 * get_task_comm(name, t) while still holding it. get_task_comm() takes
 * task_lock(t) itself: the same spinlock twice in one task, a self-deadlock
 * on the very first thread (PID 1). lockdep sees the second acquisition
 * before it spins and reports "possible recursive locking detected"; then
 * the CPU spins for ever, with the first thread's alloc_lock held and
 * preemption disabled. Load it only on a throw-away machine with a second
 * CPU; it cannot be unloaded.
 *
 * The fixed version is ../ch13-thrd-showall-fixed: task_unlock(t) before
 * get_task_comm().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("show all threads, with a recursive-locking bug lockdep catches");
MODULE_LICENSE("Dual MIT/GPL");

static noinline int showthrds_buggy(void)
{
	struct task_struct *g, *t;
	char name[TASK_COMM_LEN];
	int total = 0;

	pr_info("  TGID    PID  # thrds  Thread name\n");
	rcu_read_lock();
	for_each_process_thread(g, t) {
		bool kthread;
		int nthrds;

		get_task_struct(t);
		task_lock(t);
		kthread = !t->mm;
		nthrds = get_nr_threads(g);
		/* The bug: get_task_comm() takes task_lock(t), which we hold. */
		get_task_comm(name, t);
		task_unlock(t);
		if (kthread)
			pr_info("%6d %6d  %7s  [%s]\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
		else if (g == t && nthrds > 1)
			pr_info("%6d %6d  %7d  %s\n", task_tgid_nr(t), task_pid_nr(t), nthrds, name);
		else
			pr_info("%6d %6d  %7s  %s\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
		put_task_struct(t);
		total++;
	}
	rcu_read_unlock();
	return total;
}

static int __init thrd_showall_buggy_init(void)
{
	pr_info("inserted\n");
	pr_info("total # of threads on the system: %d\n", showthrds_buggy());
	return 0;
}

static void __exit thrd_showall_buggy_exit(void)
{
	pr_info("removed\n");
}

module_init(thrd_showall_buggy_init);
module_exit(thrd_showall_buggy_exit);
