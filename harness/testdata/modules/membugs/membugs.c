// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * membugs: lkmtest's own fixture for the bug-finding kernels. Loading it
 * with bug=<name> makes one memory bug in the module's init function, for
 * KASAN, UBSAN or kmemleak to find; bug=none does the same work correctly
 * (the fixed twin).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: one memory bug per load, for KASAN, UBSAN and kmemleak");

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "uaf, oob, leak, shift, index or none");

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
