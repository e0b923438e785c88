// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * user_lkm: the upper module of a stack (Linux Kernel Programming,
 * chapter 5, "modstacking"). It calls core_lkm's get_skey() and reads its
 * exp_int, so it loads only after core_lkm.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": %s(): " fmt, __func__

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include "core_lkm.h"

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("module stacking: the using module");
MODULE_LICENSE("Dual MIT/GPL");

static int __init user_lkm_init(void)
{
	long key = get_skey(THE_ONE);

	pr_info("inserted; get_skey() returned 0x%lx = %ld, exp_int = %d\n", key, key, exp_int);
	return 0;
}

static void __exit user_lkm_exit(void)
{
	pr_info("bids you adieu\n");
}

module_init(user_lkm_init);
module_exit(user_lkm_exit);
