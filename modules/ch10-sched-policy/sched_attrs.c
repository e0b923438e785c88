// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sched_attrs: a task's scheduling attributes as the kernel keeps them in
 * its task_struct (Linux Kernel Programming, chapter 10, "the CPU
 * scheduler, part 1": policies, real-time and nice priorities).
 *
 * On load it prints the priority scale (MAX_RT_PRIO, MAX_PRIO,
 * DEFAULT_PRIO) and the attributes of the loading task (insmod). Writing a
 * PID to /sys/module/sched_attrs/parameters/pid prints that task's
 * attributes: policy, prio (the priority the scheduler uses, possibly
 * boosted), static_prio (from the nice value), normal_prio (the priority
 * its policy gives it), rt_priority, the nice value and the CFS load
 * weight (se.load.weight, fixed point on 64-bit kernels).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>
#include <linux/sched/task.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("print a task's scheduling policy and priorities");
MODULE_LICENSE("Dual MIT/GPL");

static void show_task(struct task_struct *p)
{
	pr_info("pid %d (%s): policy=%u prio=%d static_prio=%d normal_prio=%d rt_priority=%u nice=%d weight=%lu\n",
		task_pid_nr(p), p->comm, p->policy, p->prio, p->static_prio, p->normal_prio, p->rt_priority,
		task_nice(p), p->se.load.weight);
}

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
	show_task(p);
	put_task_struct(p);
	*(int *)kp->arg = nr;
	return 0;
}

static const struct kernel_param_ops pid_ops = {
	.set = set_pid,
	.get = param_get_int,
};

module_param_cb(pid, &pid_ops, &shown_pid, 0644);
MODULE_PARM_DESC(pid, "write a PID to print that task's scheduling attributes");

static int __init sched_attrs_init(void)
{
	pr_info("loaded: MAX_RT_PRIO=%d MAX_PRIO=%d DEFAULT_PRIO=%d\n", MAX_RT_PRIO, MAX_PRIO, DEFAULT_PRIO);
	show_task(current);
	return 0;
}

static void __exit sched_attrs_exit(void)
{
	pr_info("removed\n");
}

module_init(sched_attrs_init);
module_exit(sched_attrs_exit);
