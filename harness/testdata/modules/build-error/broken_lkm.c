// SPDX-License-Identifier: GPL-2.0 OR MIT
/* broken_lkm: does not compile (an undeclared identifier). */
#include <linux/module.h>

MODULE_LICENSE("Dual MIT/GPL");

static int __init broken_init(void)
{
	return undeclared_identifier;
}
module_init(broken_init);
