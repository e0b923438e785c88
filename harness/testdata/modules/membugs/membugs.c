// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * membugs: lkmtest's own fixture for the bug-finding kernels. Loading it
 * with bug=<name> makes one memory bug in the module's init function, for
 * KASAN, UBSAN, kmemleak, KFENCE or SLUB debug to find; bug=none does the
 * same work correctly (the fixed twin).
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: one memory bug per load, for KASAN, UBSAN, kmemleak, KFENCE and SLUB debug");

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "uaf, oob, leak, shift, index, poison, kfence or none");

static int shift = 40;
module_param(shift, int, 0444);
static int index = 8;
module_param(index, int, 0444);

static void *kept;	/* what bug=none keeps until rmmod */

static noinline int membugs_uaf(void)
{
	int *p = kmalloc(sizeof(*p) * 8, GFP_KERNEL);
	int v;

	if (!p)
		return -ENOMEM;
	p[0] = 1;
	kfree(p);
	v = READ_ONCE(p[0]);	/* read after free */
	return v == 12345;
}

static noinline int membugs_oob(void)
{
	char *p = kmalloc(32, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 'x', 32);
	p[32] = 'y';		/* one past the end */
	kfree(p);
	return 0;
}

static noinline void membugs_leak(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (p)
		memset(p, 'L', 64);	/* and the pointer is dropped */
}

static noinline int membugs_shift(void)
{
	volatile unsigned int one = 1;

	return (int)(one << shift);	/* shift of 40 on a 32-bit int */
}

static noinline int membugs_index(void)
{
	int a[8] = { 0 };
	volatile int i = index;

	return a[i];		/* index 8 of int[8] */
}

/*
 * A write after kfree(): SLUB debug (slub_debug=P) filled the free object
 * with poison, which the write overwrites; the next check of the cache
 * (writing 1 to /sys/kernel/slab/<cache>/validate) reports it, with the
 * object's allocation and free stacks. 200 bytes: kmalloc-256, which the
 * guest hardly uses meanwhile (the agent's log writes use kmalloc-64), so
 * that the check is the spec's.
 */
static noinline int membugs_poison(void)
{
	char *p = kmalloc(200, GFP_KERNEL);	/* its track: this line */

	if (!p)
		return -ENOMEM;
	pr_info("membugs: object of size %zu\n", ksize(p));
	kfree(p);
	WRITE_ONCE(p[8], 'P');	/* write after free */
	return 0;
}

/*
 * A read after kfree() of an object KFENCE guards: KFENCE samples one
 * allocation per interval, so allocate until one is its own (at most
 * 10 s), then free it and read it.
 */
static noinline int membugs_kfence(void)
{
	unsigned long end = jiffies + 10 * HZ;
	char *p;

	if (!IS_ENABLED(CONFIG_KFENCE))
		return -ENODEV;
	for (;;) {
		p = kmalloc(32, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p))
			break;
		kfree(p);
		if (time_after(jiffies, end)) {
			pr_info("membugs: KFENCE guarded no allocation in 10 s\n");
			return -ETIMEDOUT;
		}
		usleep_range(500, 1000);
	}
	p[0] = 'K';
	kfree(p);
	return READ_ONCE(p[0]) == 'K';	/* read after free */
}

static int __init membugs_init(void)
{
	pr_info("membugs: bug=%s\n", bug);
	if (!strcmp(bug, "uaf"))
		membugs_uaf();
	else if (!strcmp(bug, "oob"))
		membugs_oob();
	else if (!strcmp(bug, "leak"))
		membugs_leak();
	else if (!strcmp(bug, "shift"))
		membugs_shift();
	else if (!strcmp(bug, "index"))
		membugs_index();
	else if (!strcmp(bug, "poison"))
		membugs_poison();
	else if (!strcmp(bug, "kfence"))
		membugs_kfence();
	else if (!strcmp(bug, "none")) {
		kept = kmalloc(64, GFP_KERNEL);	/* freed in exit */
		if (!kept)
			return -ENOMEM;
	} else
		return -EINVAL;
	pr_info("membugs: done\n");
	return 0;
}

static void __exit membugs_exit(void)
{
	kfree(kept);
}

module_init(membugs_init);
module_exit(membugs_exit);
