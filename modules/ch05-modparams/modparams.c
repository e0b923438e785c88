// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modparams: module parameters (Linux Kernel Programming, chapter 5,
 * "modparams1"). Two parameters, both writable through sysfs by root and
 * group (0660): the values are printed at load and again at unload, so a
 * change made through /sys/module/modparams/parameters/ shows.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("module parameters, set at load and through sysfs");
MODULE_LICENSE("Dual MIT/GPL");

static int mp_debug_level;
module_param(mp_debug_level, int, 0660);
MODULE_PARM_DESC(mp_debug_level, "debug level [0-2]; 0 => no debug messages (default)");

static char *mp_strparam = "My string param";
module_param(mp_strparam, charp, 0660);
MODULE_PARM_DESC(mp_strparam, "a demo string parameter");

static int __init modparams_init(void)
{
	pr_info("inserted\n");
	pr_info("module parameters passed: mp_debug_level=%d mp_strparam=%s\n", mp_debug_level, mp_strparam);
	return 0;
}

static void __exit modparams_exit(void)
{
	pr_info("module parameters passed: mp_debug_level=%d mp_strparam=%s\n", mp_debug_level, mp_strparam);
	pr_info("removed\n");
}

module_init(modparams_init);
module_exit(modparams_exit);
