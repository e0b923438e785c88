// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * task_iter: iterating over the task list (Linux Kernel Programming,
 * chapter 6, "prcs_showall" and "thrd_showall"). Counts the processes
 * (for_each_process) and the threads (for_each_process_thread), printing a
 * row per process with its name, TGID, PID and real and effective UIDs,
 * kernel threads in brackets. The thread total includes the boot CPU's idle
 * task (swapper/0, PID 0), which is not on the task list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("count and show processes and threads");
MODULE_LICENSE("Dual MIT/GPL");

static int __init task_iter_init(void)
{
	struct task_struct *p, *t;
	int nprocs = 0, nthrds = 1;	/* 1: swapper/0 */

	pr_info("     Name       |  TGID  |   PID  |  RUID |  EUID\n");
	rcu_read_lock();
	for_each_process(p) {
		const struct cred *cred = __task_cred(p);
		char name[TASK_COMM_LEN + 2];

		if (p->mm)
			snprintf(name, sizeof(name), "%s", p->comm);
		else
			snprintf(name, sizeof(name), "[%s]", p->comm);
		pr_info("%-16s|%8d|%8d|%7u|%7u\n", name, task_tgid_nr(p), task_pid_nr(p),
			from_kuid(&init_user_ns, cred->uid), from_kuid(&init_user_ns, cred->euid));
		nprocs++;
	}
	for_each_process_thread(p, t)
		nthrds++;
	rcu_read_unlock();
	pr_info("total # of processes on system: %d\n", nprocs);
	pr_info("total # of threads on the system: %d\n", nthrds);
	return 0;
}

static void __exit task_iter_exit(void)
{
	pr_info("removed\n");
}

module_init(task_iter_init);
module_exit(task_iter_exit);
