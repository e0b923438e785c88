// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * refcount_lkm: refcount_t's protection (Linux Kernel Programming, chapter
 * 13, refcount_t). Normal increments and decrements are silent; an
 * addition that would overflow saturates the counter with a WARNING
 * ("saturated; leaking memory"), a subtraction below zero does too
 * ("underflow; use-after-free"). Choose with mode=ok|overflow|underflow.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/string.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("refcount_t saturation on overflow and underflow");
MODULE_LICENSE("Dual MIT/GPL");

static char *mode = "ok";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "ok (default), overflow or underflow");

static int __init refcount_lkm_init(void)
{
	refcount_t ga = REFCOUNT_INIT(42), gb = REFCOUNT_INIT(42);

	if (!strcmp(mode, "ok")) {
		refcount_inc(&ga);
		refcount_dec(&gb);
	} else if (!strcmp(mode, "overflow")) {
		refcount_add(INT_MAX, &ga);
	} else if (!strcmp(mode, "underflow")) {
		if (refcount_sub_and_test(INT_MAX, &gb))
			pr_info("gb hit zero\n");
	} else {
		pr_err("mode %s: want ok, overflow or underflow\n", mode);
		return -EINVAL;
	}
	pr_info("mode=%s: ga = %u, gb = %u\n", mode, refcount_read(&ga), refcount_read(&gb));
	return 0;
}

static void __exit refcount_lkm_exit(void)
{
	pr_info("removed\n");
}

module_init(refcount_lkm_init);
module_exit(refcount_lkm_exit);
