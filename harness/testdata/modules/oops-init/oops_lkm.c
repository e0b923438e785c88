// SPDX-License-Identifier: GPL-2.0 OR MIT
/* oops_lkm: dereferences a NULL pointer in its init function. */
#include <linux/module.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: a module that oopses in init");

static int * volatile target;	/* NULL; volatile so the store is not optimised away */

static int __init oops_lkm_init(void)
{
	pr_info("oops_lkm: about to write through a NULL pointer\n");
	*target = 42;
	return 0;
}

static void __exit oops_lkm_exit(void)
{
}

module_init(oops_lkm_init);
module_exit(oops_lkm_exit);
