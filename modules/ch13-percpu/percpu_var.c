// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * percpu_var: per-CPU variables (Linux Kernel Programming, chapter 13,
 * "percpu_var"). A static per-CPU int (pcpa) and a dynamically allocated
 * per-CPU context (tx, rx counters) are updated by two kernel threads,
 * each bound to its own CPU with kthread_bind() (not, as the book does,
 * through the unexported sched_setaffinity()). Thread 0 on CPU 0 increments
 * pcpa and adds 100 to tx three times; thread 1 on CPU 1 decrements pcpa
 * and adds 200 to rx three times. The final per-CPU table is therefore
 * exact. Needs at least two CPUs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("per-CPU variables updated by CPU-bound kthreads");
MODULE_LICENSE("Dual MIT/GPL");

#define NTHREADS 2
#define ITERATIONS 3

struct drv_ctx {
	int tx, rx;
};

static DEFINE_PER_CPU(int, pcpa);
static struct drv_ctx __percpu *pcp_ctx;
static struct task_struct *thrd[NTHREADS];

static void show_percpu(void)
{
	int cpu;

	for_each_online_cpu(cpu) {
		struct drv_ctx *ctx = per_cpu_ptr(pcp_ctx, cpu);

		pr_info(" cpu %2d: pcpa = %+d, rx = %5d, tx = %5d\n", cpu, per_cpu(pcpa, cpu), ctx->rx, ctx->tx);
	}
}

static int thrd_work(void *arg)
{
	long n = (long)arg;
	int i;

	pr_info("*** kthread %s on cpu %d now ***\n", current->comm, raw_smp_processor_id());
	for (i = 0; i < ITERATIONS; i++) {
		if (n == 0) {
			int v = ++get_cpu_var(pcpa);

			put_cpu_var(pcpa);
			get_cpu_ptr(pcp_ctx)->tx += 100;
			put_cpu_ptr(pcp_ctx);
			pr_info("  thrd_0/cpu%d: pcpa = %+d\n", raw_smp_processor_id(), v);
		} else {
			int v = --get_cpu_var(pcpa);

			put_cpu_var(pcpa);
			get_cpu_ptr(pcp_ctx)->rx += 200;
			put_cpu_ptr(pcp_ctx);
			pr_info("  thrd_1/cpu%d: pcpa = %+d\n", raw_smp_processor_id(), v);
		}
		msleep(20);
	}
	pr_info("Our kernel thread #%ld exiting now...\n", n);
	/* Stay until kthread_stop(), which must find the thread alive. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 20);
	return 0;
}

static int __init percpu_var_init(void)
{
	long n;

	if (num_online_cpus() < NTHREADS) {
		pr_err("needs %d online CPUs, has %u\n", NTHREADS, num_online_cpus());
		return -ENODEV;
	}
	pcp_ctx = alloc_percpu(struct drv_ctx);
	if (!pcp_ctx)
		return -ENOMEM;
	for (n = 0; n < NTHREADS; n++) {
		thrd[n] = kthread_create(thrd_work, (void *)n, "thrd_%ld/%ld", n, n);
		if (IS_ERR(thrd[n])) {
			int ret = PTR_ERR(thrd[n]);

			while (--n >= 0)
				kthread_stop(thrd[n]);
			free_percpu(pcp_ctx);
			return ret;
		}
		kthread_bind(thrd[n], n);
		wake_up_process(thrd[n]);
	}
	pr_info("inserted\n");
	return 0;
}

static void __exit percpu_var_exit(void)
{
	int n;

	for (n = 0; n < NTHREADS; n++)
		kthread_stop(thrd[n]);
	show_percpu();
	free_percpu(pcp_ctx);
	pr_info("removed\n");
}

module_init(percpu_var_init);
module_exit(percpu_var_exit);
