// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * printk_loglvl: one line at every printk log level (Linux Kernel
 * Programming, chapter 4, "printk_loglvl"). Each line ends with its level
 * number in brackets, so a test can check that the kernel log records the
 * level the line asks for. The KERN_DEBUG lines are compiled in only with
 * -DDEBUG (they are not here).
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("printk at every log level");
MODULE_LICENSE("Dual MIT/GPL");

static int __init printk_loglvl_init(void)
{
	pr_emerg("Hello, world @ log-level KERN_EMERG   [0]\n");
	pr_alert("Hello, world @ log-level KERN_ALERT   [1]\n");
	pr_crit("Hello, world @ log-level KERN_CRIT    [2]\n");
	pr_err("Hello, world @ log-level KERN_ERR     [3]\n");
	pr_warn("Hello, world @ log-level KERN_WARNING [4]\n");
	pr_notice("Hello, world @ log-level KERN_NOTICE  [5]\n");
	pr_info("Hello, world @ log-level KERN_INFO    [6]\n");
	pr_debug("Hello, world @ log-level KERN_DEBUG   [7]\n");
	pr_devel("Hello, world via the pr_devel() macro (eff @KERN_DEBUG) [7]\n");
	return 0;
}

static void __exit printk_loglvl_exit(void)
{
	pr_info("Goodbye, world @ log-level KERN_INFO    [6]\n");
}

module_init(printk_loglvl_init);
module_exit(printk_loglvl_exit);
