// SPDX-License-Identifier: GPL-2.0 OR MIT
/* hang_lkm: its init function never returns (it sleeps in a loop). */
#include <linux/delay.h>
#include <linux/module.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: a module whose init never returns");

static int __init hang_init(void)
{
	pr_info("hang_lkm: init will never return\n");
	for (;;)
		msleep(100);
	return 0;
}

static void __exit hang_exit(void)
{
}

module_init(hang_init);
module_exit(hang_exit);
