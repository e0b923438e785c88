// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

int b_core_value(void)
{
	return 7;
}
EXPORT_SYMBOL_GPL(b_core_value);

static int __init b_core_init(void)
{
	pr_info("b_core: loaded\n");
	return 0;
}

static void __exit b_core_exit(void)
{
	pr_info("b_core: unloaded\n");
}

module_init(b_core_init);
module_exit(b_core_exit);
MODULE_LICENSE("GPL");
