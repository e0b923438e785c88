// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modparams_mandatory: a parameter the module cannot do without (Linux
 * Kernel Programming, chapter 5, "modparams2"): control_freak must be in
 * [1, 5], else loading fails with EINVAL.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a mandatory module parameter");
MODULE_LICENSE("Dual MIT/GPL");

static int control_freak;
module_param(control_freak, int, 0660);
MODULE_PARM_DESC(control_freak, "mandatory: a value in [1-5]");

static int __init modparams_mandatory_init(void)
{
	if (control_freak < 1 || control_freak > 5) {
		pr_warn("I'm a control freak; thus, you *Must* pass along module parameter 'control_freak', value in the range [1-5]; aborting...\n");
		return -EINVAL;
	}
	pr_info("inserted with control_freak=%d\n", control_freak);
	return 0;
}

static void __exit modparams_mandatory_exit(void)
{
	pr_info("removed\n");
}

module_init(modparams_mandatory_init);
module_exit(modparams_mandatory_exit);
