// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

int b_core_value(void);

static int __init a_user_init(void)
{
	pr_info("a_user: b_core says %d\n", b_core_value());
	return 0;
}

static void __exit a_user_exit(void)
{
	pr_info("a_user: unloaded\n");
}

module_init(a_user_init);
module_exit(a_user_exit);
MODULE_LICENSE("GPL");
