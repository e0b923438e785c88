// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * thrd_showall_fixed: the fix of the book's lockdep demo (Linux Kernel
 * Programming, chapter 13, "fixed_thrdshow_eg"). Like
 * ../ch13-thrd-showall-buggy, it walks every thread
 * (for_each_process_thread() under rcu_read_lock()) and reads each thread's
 * fields under task_lock(t); but it drops that lock before calling
 * get_task_comm(), which takes task_lock(t) itself. Each acquisition of a
 * thread's alloc_lock now ends before the next begins: no recursion, and
 * nothing for lockdep to report.
 *
 * At load it prints a row per thread (TGID, PID, the process's thread count
 * on the row of a multithreaded process's main thread, the name, kernel
 * threads in brackets) and the total. Reading the parameter nthreads does
 * the same locked walk without the rows and returns the count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("show all threads: the lockdep demo, fixed");
MODULE_LICENSE("Dual MIT/GPL");

static void show_row(struct task_struct *t, const char *name, bool kthread, int nthrds)
{
	if (kthread)
		pr_info("%6d %6d  %7s  [%s]\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
	else if (nthrds > 1)
		pr_info("%6d %6d  %7d  %s\n", task_tgid_nr(t), task_pid_nr(t), nthrds, name);
	else
		pr_info("%6d %6d  %7s  %s\n", task_tgid_nr(t), task_pid_nr(t), "-", name);
}

static int showthrds_fixed(bool show)
{
	struct task_struct *g, *t;
	char name[TASK_COMM_LEN];
	int total = 0;

	if (show)
		pr_info("  TGID    PID  # thrds  Thread name\n");
	rcu_read_lock();
	for_each_process_thread(g, t) {
		bool kthread;
		int nthrds;

		get_task_struct(t);
		task_lock(t);
		kthread = !t->mm;
		nthrds = get_nr_threads(g);
		/* The fix: get_task_comm() takes task_lock(t) itself. */
		task_unlock(t);
		get_task_comm(name, t);
		if (show)
			show_row(t, name, kthread, g == t ? nthrds : 1);
		put_task_struct(t);
		total++;
	}
	rcu_read_unlock();
	pr_info("total # of threads on the system: %d\n", total);
	return total;
}

static int nthreads_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n", showthrds_fixed(false));
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

static int __init thrd_showall_fixed_init(void)
{
	pr_info("inserted\n");
	showthrds_fixed(true);
	return 0;
}

static void __exit thrd_showall_fixed_exit(void)
{
	pr_info("removed\n");
}

module_init(thrd_showall_fixed_init);
module_exit(thrd_showall_fixed_exit);
