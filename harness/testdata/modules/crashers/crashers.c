// SPDX-License-Identifier: GPL-2.0
/*
 * crashers: lkmtest's own fixture. Loading it with kind=<name> makes the
 * kernel report one kind of problem from the module's init function, so
 * that the crash catalogue can be checked against real kernel output on
 * every kernel and arch. Never load it outside a throw-away VM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/version.h>

MODULE_DESCRIPTION("lkmtest fixture: triggers one kind of kernel report on load");
MODULE_LICENSE("GPL");

static char *kind = "none";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "warn, bug, null, sleep_atomic, sched_atomic, list, refcount, softlockup, spin_forever, hung, panic");

static DEFINE_SPINLOCK(crashers_lock);

static noinline void crashers_warn(void)
{
	WARN_ON(1);
}

static noinline void crashers_bug(void)
{
	BUG();
}

static noinline int crashers_null(void)
{
	int *volatile p = NULL;

	return *p;
}

static noinline void crashers_sleep_atomic(void)
{
	spin_lock(&crashers_lock);
	might_sleep();
	spin_unlock(&crashers_lock);
}

static noinline void crashers_sched_atomic(void)
{
	spin_lock(&crashers_lock);
	schedule_timeout_uninterruptible(1);
	spin_unlock(&crashers_lock);
}

static noinline void crashers_list(void)
{
	static LIST_HEAD(head);
	static struct list_head a;

	list_add(&a, &head);
	list_add(&a, &head);	/* the same entry twice: list_add corruption */
	INIT_LIST_HEAD(&head);
}

static noinline void crashers_refcount(void)
{
	refcount_t r = REFCOUNT_INIT(1);

	refcount_dec(&r);	/* to zero: refcount_dec must never hit zero */
}

static noinline void crashers_softlockup(void)
{
	unsigned long end = jiffies + 5 * HZ;

	/* Spin without scheduling; boot with watchdog_thresh=1 (2 s limit). */
	preempt_disable();
	while (time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
}

static noinline void crashers_spin_forever(void)
{
	/* Never returns, never schedules: the guest stops answering. */
	preempt_disable();
	for (;;)
		cpu_relax();
}

static DECLARE_COMPLETION(crashers_never);

static noinline void crashers_hung(void)
{
	/* Sleeps uninterruptibly for good (nobody completes it): after
	 * kernel.hung_task_timeout_secs the hung task detector reports insmod.
	 */
	wait_for_completion(&crashers_never);
}

static int __init crashers_init(void)
{
	pr_info("kind=%s\n", kind);
	if (!strcmp(kind, "warn"))
		crashers_warn();
	else if (!strcmp(kind, "bug"))
		crashers_bug();
	else if (!strcmp(kind, "null"))
		return crashers_null();
	else if (!strcmp(kind, "sleep_atomic"))
		crashers_sleep_atomic();
	else if (!strcmp(kind, "sched_atomic"))
		crashers_sched_atomic();
	else if (!strcmp(kind, "list"))
		crashers_list();
	else if (!strcmp(kind, "refcount"))
		crashers_refcount();
	else if (!strcmp(kind, "softlockup"))
		crashers_softlockup();
	else if (!strcmp(kind, "spin_forever"))
		crashers_spin_forever();
	else if (!strcmp(kind, "hung"))
		crashers_hung();
	else if (!strcmp(kind, "panic"))
		panic("crashers: deliberate panic");
	else if (strcmp(kind, "none"))
		return -EINVAL;
	pr_info("done\n");
	return 0;
}

static void __exit crashers_exit(void)
{
}

module_init(crashers_init);
module_exit(crashers_exit);
