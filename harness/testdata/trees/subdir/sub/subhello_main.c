// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>
#include "subhello.h"

static int __init subhello_init(void)
{
	pr_info("subhello: %s\n", SUBHELLO_GREETING);
	return 0;
}

static void __exit subhello_exit(void)
{
}

module_init(subhello_init);
module_exit(subhello_exit);
MODULE_LICENSE("GPL");
