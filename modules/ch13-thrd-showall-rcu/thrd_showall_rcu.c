// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * thrd_showall_rcu: show every thread, the task list read under RCU (Linux
 * Kernel Programming, chapter 13, "thrdshowall_rcu"). The walk,
 * for_each_process_thread(), runs between rcu_read_lock() and
 * rcu_read_unlock(): the task list's writers (fork, exit) hold
 * tasklist_lock, which modules cannot take, and unlink a task with the
 * _rcu list primitives, freeing it only after a grace period, so a reader
 * inside an RCU read-side section never follows a pointer to freed memory
 * and never blocks a writer. No task_lock() is held while the name is
 * copied: get_task_comm() takes it itself (a spinlock: allowed under RCU,
 * which forbids only sleeping).
 *
 * At load it prints a row per thread (TGID, PID, the process's thread count
 * on the row of a multithreaded process's main thread, the name, kernel
 * threads in brackets) and the total. Reading the parameter nthreads walks
 * the list again and returns the count, for comparison with /proc.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("show all threads, walking the task list under RCU");
MODULE_LICENSE("Dual MIT/GPL");

static int showthrds_rcu(bool show)
{
	struct task_struct *g, *t;
	char name[TASK_COMM_LEN];
	int total = 0;

	if (show)
		pr_info("  TGID    PID  # thrds  Thread name\n");
	rcu_read_lock();
	for_each_process_thread(g, t) {
		total++;
		if (!show)
			continue;
		get_task_comm(name, t);
		if (t->flags & PF_KTHREAD)
			pr_info("%6d %6d  %7s  [%s]\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
		else if (g == t && get_nr_threads(g) > 1)
			pr_info("%6d %6d  %7d  %s\n", task_tgid_nr(t), task_pid_nr(t), get_nr_threads(g), name);
		else
			pr_info("%6d %6d  %7s  %s\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
	}
	rcu_read_unlock();
	pr_info("total # of threads on the system: %d\n", total);
	return total;
}

static int nthreads_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n", showthrds_rcu(false));
}

static int nthreads_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops nthreads_ops = {
	.set = nthreads_set,
	.get = nthreads_get,
};
module_param_cb(nthreads, &nthreads_ops, NULL, 0444);
MODULE_PARM_DESC(nthreads, "read: walk the task list and return the number of threads");

static int __init thrd_showall_rcu_init(void)
{
	pr_info("inserted\n");
	showthrds_rcu(true);
	return 0;
}

static void __exit thrd_showall_rcu_exit(void)
{
	pr_info("removed\n");
}

module_init(thrd_showall_rcu_init);
module_exit(thrd_showall_rcu_exit);
