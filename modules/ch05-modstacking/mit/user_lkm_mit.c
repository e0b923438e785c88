// SPDX-License-Identifier: MIT
/*
 * user_lkm_mit: user_lkm under a licence that is not GPL-compatible (Linux
 * Kernel Programming, chapter 5, the "modstacking" licence experiment). The
 * kernel's loader taints the kernel with P and hides GPL-only exports from
 * the module, so exp_int (EXPORT_SYMBOL_GPL) does not resolve and the load
 * fails with ENOENT, while get_skey (EXPORT_SYMBOL) would have.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": %s(): " fmt, __func__

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include "core_exports.h"

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("module stacking: a non-GPL module using a GPL-only export");
MODULE_LICENSE("MIT");

static int __init user_lkm_mit_init(void)
{
	long key = get_skey(THE_ONE);

	pr_info("inserted; get_skey() returned 0x%lx, exp_int = %d\n", key, exp_int);
	return 0;
}

static void __exit user_lkm_mit_exit(void)
{
	pr_info("bids you adieu\n");
}

module_init(user_lkm_mit_init);
module_exit(user_lkm_mit_exit);
