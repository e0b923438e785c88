// SPDX-License-Identifier: GPL-2.0
/*
 * ghamod: the module of lkmtest's fixture of a module repository that
 * runs lkmtest through its GitHub Action (.github/workflows/lkmtest.yml).
 * Loaded, it logs its parameter doubled; unloaded, a goodbye.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

MODULE_DESCRIPTION("lkmtest GitHub Action fixture");
MODULE_LICENSE("GPL");

static int base = 21;
module_param(base, int, 0444);
MODULE_PARM_DESC(base, "the value logged doubled at load");

static int __init ghamod_init(void)
{
	pr_info("loaded, twice %d is %d\n", base, 2 * base);
	return 0;
}

static void __exit ghamod_exit(void)
{
	pr_info("unloaded\n");
}

module_init(ghamod_init);
module_exit(ghamod_exit);
