// SPDX-License-Identifier: GPL-2.0 OR MIT
/* quiet_lkm: loads fine but never logs the line its spec expects. */
#include <linux/module.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: a module whose expected line never appears");

static int __init quiet_init(void)
{
	pr_info("quiet_lkm: something else entirely\n");
	return 0;
}

static void __exit quiet_exit(void)
{
}

module_init(quiet_init);
module_exit(quiet_exit);
