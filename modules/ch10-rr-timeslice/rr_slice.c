// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * rr_slice: the SCHED_RR timeslice from the kernel's side (Linux Kernel
 * Programming, chapter 10). On load it prints HZ and RR_TIMESLICE, the
 * default round-robin quantum in jiffies (100 ms worth). Writing a PID to
 * /sys/module/rr_slice/parameters/pid prints that task's policy and what
 * is left of its current quantum, rt.time_slice, in jiffies: a task gets
 * the kernel's current quantum when it forks, and only the ticks it
 * spends running as SCHED_RR use it up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/rt.h>
#include <linux/sched/task.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("print RR_TIMESLICE and a task's remaining SCHED_RR quantum");
MODULE_LICENSE("Dual MIT/GPL");

static int shown_pid;

static int set_pid(const char *val, const struct kernel_param *kp)
{
	struct task_struct *p;
	struct pid *pid;
	int nr, ret;

	ret = kstrtoint(val, 10, &nr);
	if (ret)
		return ret;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	p = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!p)
		return -ESRCH;
	pr_info("pid %d (%s): policy=%u time_slice=%u\n", task_pid_nr(p), p->comm, p->policy, p->rt.time_slice);
	put_task_struct(p);
	*(int *)kp->arg = nr;
	return 0;
}

static const struct kernel_param_ops pid_ops = {
	.set = set_pid,
	.get = param_get_int,
};

module_param_cb(pid, &pid_ops, &shown_pid, 0644);
MODULE_PARM_DESC(pid, "write a PID to print that task's remaining SCHED_RR quantum");

static int __init rr_slice_init(void)
{
	pr_info("HZ=%d RR_TIMESLICE=%d jiffies = %u ms\n", HZ, RR_TIMESLICE, jiffies_to_msecs(RR_TIMESLICE));
	return 0;
}

static void __exit rr_slice_exit(void)
{
	pr_info("removed\n");
}

module_init(rr_slice_init);
module_exit(rr_slice_exit);
