// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * helloworld_lkm: the smallest useful loadable kernel module
 * (Linux Kernel Programming, chapter 4). It logs one line at KERN_INFO
 * when it is loaded and one when it is unloaded.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("Hello, world: the first loadable kernel module");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_VERSION("0.1");

static int __init helloworld_lkm_init(void)
{
	printk(KERN_INFO "Hello, world\n");
	return 0;	/* success */
}

static void __exit helloworld_lkm_exit(void)
{
	printk(KERN_INFO "Goodbye, world\n");
}

module_init(helloworld_lkm_init);
module_exit(helloworld_lkm_exit);
