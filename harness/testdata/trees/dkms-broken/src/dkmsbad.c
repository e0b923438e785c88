// SPDX-License-Identifier: GPL-2.0
/*
 * dkmsbad: lkmtest's fixture of a DKMS package that does not compile: an
 * undeclared identifier on line 13, the first (and only) compiler error.
 */
#include <linux/init.h>
#include <linux/module.h>

MODULE_LICENSE("GPL");

static int __init dkmsbad_init(void)
{
	return dkmsbad_undeclared;
}
module_init(dkmsbad_init);
