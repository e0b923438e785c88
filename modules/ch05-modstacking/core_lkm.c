// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * core_lkm: the lower module of a stack (Linux Kernel Programming,
 * chapter 5, "modstacking"). It exports a function, get_skey(), and an
 * integer, exp_int (GPL-only), that user_lkm uses; while user_lkm is
 * loaded, core_lkm is held and cannot be removed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": %s(): " fmt, __func__

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include "core_lkm.h"

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("module stacking: the exporting module");
MODULE_LICENSE("Dual MIT/GPL");

int exp_int = 200;
EXPORT_SYMBOL_GPL(exp_int);

/* Returns the secret key to whoever passes THE_ONE, else 0. */
long get_skey(int p)
{
	pr_info("I've been called\n");
	return p == THE_ONE ? 0x123abc567defL : 0;
}
EXPORT_SYMBOL(get_skey);

static int __init core_lkm_init(void)
{
	pr_info("inserted; exports get_skey() and exp_int\n");
	return 0;
}

static void __exit core_lkm_exit(void)
{
	pr_info("bids you adieu\n");
}

module_init(core_lkm_init);
module_exit(core_lkm_exit);
