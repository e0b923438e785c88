// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * thrd_showall: every thread on the system (Linux Kernel Programming,
 * chapter 6, "thrd_showall"), written anew for lkmtest. A row per thread:
 * TGID, PID, the task_struct and its kernel stack (hashed %p), the name
 * (kernel threads in brackets) and, on the main thread of a
 * multi-threaded process, its number of threads. The boot CPU's idle
 * thread (swapper/0, PID 0) is not on the task list: it is shown first, by
 * hand, and counted. The walk is for_each_process_thread() under
 * rcu_read_lock() (do_each_thread() is gone from 6.6; the book's walk
 * took no lock at all), the names copied with get_task_comm(), which takes
 * the task's own lock.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch6 thrd_showall: every thread on the task list");
MODULE_LICENSE("Dual MIT/GPL");

static void show_row(struct task_struct *p, struct task_struct *t)
{
	char comm[TASK_COMM_LEN];
	char name[TASK_COMM_LEN + 4];
	char nthrds[12] = "";

	get_task_comm(comm, t);
	if (t->flags & PF_KTHREAD)
		snprintf(name, sizeof(name), " [%16s]", comm);
	else
		snprintf(name, sizeof(name), "  %16s ", comm);
	/* The main thread of a multi-threaded user process: its thread count. */
	if (!(p->flags & PF_KTHREAD) && t == p && get_nr_threads(p) > 1)
		snprintf(nthrds, sizeof(nthrds), " %3d", get_nr_threads(p));
	pr_info("%8d %8d  0x%p 0x%p%s%s\n", task_tgid_nr(p), task_pid_nr(t),
		t, task_stack_page(t), name, nthrds);
}

static int __init thrd_showall_init(void)
{
	struct task_struct *p, *t;
	int total = 1, kthreads = 0;	/* 1: swapper/0, shown by hand */

	pr_info("%s: inserted\n", KBUILD_MODNAME);
	pr_info("------------------------------------------------------------------------------------------\n");
	pr_info("    TGID     PID         current           stack-start         Thread Name     MT? # thrds\n");
	pr_info("------------------------------------------------------------------------------------------\n");
	/* init_task is the boot CPU's idle thread, swapper/0. */
	show_row(&init_task, &init_task);
	rcu_read_lock();
	for_each_process_thread(p, t) {
		show_row(p, t);
		total++;
		if (t->flags & PF_KTHREAD)
			kthreads++;
	}
	rcu_read_unlock();
	pr_info("%s: total # of threads on the system: %d\n", KBUILD_MODNAME, total);
	pr_info("%s: of which kernel threads (swapper/0 aside): %d\n", KBUILD_MODNAME, kthreads);
	return 0;
}

static void __exit thrd_showall_exit(void)
{
	pr_info("%s: removed\n", KBUILD_MODNAME);
}

module_init(thrd_showall_init);
module_exit(thrd_showall_exit);
