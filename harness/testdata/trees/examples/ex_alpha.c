// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

static int __init ex_alpha_init(void)
{
	pr_info("example alpha loaded\n");
	return 0;
}

static void __exit ex_alpha_exit(void)
{
}

module_init(ex_alpha_init);
module_exit(ex_alpha_exit);
MODULE_LICENSE("GPL");
