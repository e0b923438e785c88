// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * prcs_showall: every process on the system (Linux Kernel Programming,
 * chapter 6, "prcs_showall"), written anew for lkmtest. for_each_process()
 * visits each thread group once, through its leader: a row per process
 * with its name, TGID, PID (the same, the leader's) and real and effective
 * UIDs, then the total. The idle threads (swapper/N, PID 0) are not on the
 * task list, so not shown. The walk is under rcu_read_lock(), which keeps
 * each task_struct and its credentials valid while it is read.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch6 prcs_showall: every process on the task list");
MODULE_LICENSE("Dual MIT/GPL");

static int __init prcs_showall_init(void)
{
	struct task_struct *p;
	int total = 0, kthreads = 0;

	pr_info("inserted\n");
	pr_info("     Name       |  TGID  |   PID  |  RUID |  EUID\n");
	rcu_read_lock();
	for_each_process(p) {
		const struct cred *cred = __task_cred(p);
		char comm[TASK_COMM_LEN];

		get_task_comm(comm, p);
		pr_info("%-16s|%8d|%8d|%7u|%7u\n", comm, task_tgid_nr(p), task_pid_nr(p),
			from_kuid(&init_user_ns, cred->uid),
			from_kuid(&init_user_ns, cred->euid));
		total++;
		if (p->flags & PF_KTHREAD)
			kthreads++;
	}
	rcu_read_unlock();
	pr_info("total # of processes on system: %d\n", total);
	pr_info("of which kernel threads: %d\n", kthreads);
	return 0;
}

static void __exit prcs_showall_exit(void)
{
	pr_info("removed\n");
}

module_init(prcs_showall_init);
module_exit(prcs_showall_exit);
