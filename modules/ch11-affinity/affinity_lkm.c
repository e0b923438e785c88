// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * affinity_lkm: CPU affinity seen from the kernel (Linux Kernel
 * Programming, chapter 11, "CPU affinity").
 *
 * On load it starts two kernel threads bound to a CPU each, one with
 * kthread_create_on_cpu() (CPU 1, named aff_oncpu/1), one with
 * kthread_create() + kthread_bind() (CPU 0, aff_bind0). Each sleeps and
 * wakes five times, noting smp_processor_id() every time, and reports how
 * many samples were on its CPU, its allowed mask and whether user space
 * may change it (PF_NO_SETAFFINITY). Loading waits for both reports; the
 * threads then stay until unload, so that user space can look at them.
 *
 * Writing a PID to /sys/module/affinity_lkm/parameters/pid prints that
 * task's CPU, task_cpu() (where it runs or last ran), and its allowed mask,
 * with the CPU the writer ran on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/smp.h>
#include <linux/topology.h>
#include <linux/version.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("CPU affinity of user tasks and of bound kernel threads");
MODULE_LICENSE("Dual MIT/GPL");

#define NSAMPLES 5

struct bound {
	unsigned int cpu;
	const char *how;
	struct task_struct *task;
	struct completion reported;
};

/*
 * 6.1's kernel/kthread.c exports kthread_create_on_cpu(); 5.4's defines it
 * without an EXPORT_SYMBOL. Before 6.1 the thread is made the way it does
 * it: kthread_create_on_node() on the CPU's node, then kthread_bind().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
#define ONCPU_HOW "kthread_create_on_cpu"
#else
#define ONCPU_HOW "kthread_create_on_node+kthread_bind"
#endif

static struct bound bound[2] = {
	{ .cpu = 1, .how = ONCPU_HOW },
	{ .cpu = 0, .how = "kthread_bind" },
};

static int bound_fn(void *arg)
{
	struct bound *b = arg;
	int i, hits = 0;

	for (i = 0; i < NSAMPLES; i++) {
		if (raw_smp_processor_id() == b->cpu)
			hits++;
		usleep_range(5000, 10000);
	}
	pr_info("%s (pid %d): bound to cpu %u by %s: %d of %d samples on cpu %u, allowed=%*pbl, PF_NO_SETAFFINITY=%d\n",
		current->comm, task_pid_nr(current), b->cpu, b->how, hits, NSAMPLES, b->cpu,
		cpumask_pr_args(current->cpus_ptr), !!(current->flags & PF_NO_SETAFFINITY));
	complete(&b->reported);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static int shown_pid;

static int set_pid(const char *val, const struct kernel_param *kp)
{
	struct task_struct *p;
	struct pid *pid;
	int nr, ret, cpu;

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
	cpu = get_cpu();
	put_cpu();
	pr_info("pid %d (%s): task_cpu=%u allowed=%*pbl (written on cpu %d)\n", task_pid_nr(p), p->comm,
		task_cpu(p), cpumask_pr_args(p->cpus_ptr), cpu);
	put_task_struct(p);
	*(int *)kp->arg = nr;
	return 0;
}

static const struct kernel_param_ops pid_ops = {
	.set = set_pid,
	.get = param_get_int,
};

module_param_cb(pid, &pid_ops, &shown_pid, 0644);
MODULE_PARM_DESC(pid, "write a PID to print that task's CPU and allowed mask");

static void stop_threads(unsigned int n)
{
	while (n--)
		kthread_stop(bound[n].task);
}

static struct task_struct *create_on_cpu(struct bound *b)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	return kthread_create_on_cpu(bound_fn, b, b->cpu, "aff_oncpu/%u");
#else
	struct task_struct *t;

	t = kthread_create_on_node(bound_fn, b, cpu_to_node(b->cpu), "aff_oncpu/%u", b->cpu);
	if (!IS_ERR(t))
		kthread_bind(t, b->cpu);
	return t;
#endif
}

static int __init affinity_lkm_init(void)
{
	unsigned int n;

	if (num_online_cpus() < 2) {
		pr_err("needs 2 online CPUs, has %u\n", num_online_cpus());
		return -ENODEV;
	}
	for (n = 0; n < ARRAY_SIZE(bound); n++) {
		struct bound *b = &bound[n];
		struct task_struct *t;

		init_completion(&b->reported);
		if (n == 0) {
			t = create_on_cpu(b);
		} else {
			t = kthread_create(bound_fn, b, "aff_bind%u", b->cpu);
			if (!IS_ERR(t))
				kthread_bind(t, b->cpu);
		}
		if (IS_ERR(t)) {
			stop_threads(n);
			return PTR_ERR(t);
		}
		b->task = t;
		wake_up_process(t);
	}
	for (n = 0; n < ARRAY_SIZE(bound); n++)
		wait_for_completion(&bound[n].reported);
	pr_info("loaded\n");
	return 0;
}

static void __exit affinity_lkm_exit(void)
{
	stop_threads(ARRAY_SIZE(bound));
	pr_info("removed\n");
}

module_init(affinity_lkm_init);
module_exit(affinity_lkm_exit);
