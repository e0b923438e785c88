// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * slab2_buggy: the book's deliberate double free (Linux Kernel
 * Programming, chapter 8, slab2_buggy), written anew for lkmtest. Three
 * rounds each allocate a buffer when there is none and free it; with
 * buggy=1 the pointer is not cleared after the free, so the second round
 * frees the same memory again. KASAN reports the double free; buggy=0 is
 * the fixed version.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("LKP ch8 slab2_buggy: a double free, for KASAN");

static bool buggy;
module_param(buggy, bool, 0444);
MODULE_PARM_DESC(buggy, "1: forget to clear the pointer after kfree (a double free)");

static char *kptr;

static int __init slab2_buggy_init(void)
{
	int round;

	for (round = 3; round >= 1; round--) {
		if (!kptr) {
			kptr = kzalloc(1024, GFP_KERNEL);
			if (!kptr)
				return -ENOMEM;
			memset(kptr, 'x', 1024);
		}
		pr_info("%d: kfree on the buffer\n", round);
		kfree(kptr);
		if (!buggy)
			kptr = NULL;
	}
	pr_info("done\n");
	return 0;
}

static void __exit slab2_buggy_exit(void)
{
	pr_info("removed\n");
}

module_init(slab2_buggy_init);
module_exit(slab2_buggy_exit);
