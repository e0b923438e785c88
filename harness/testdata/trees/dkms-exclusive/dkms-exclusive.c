// SPDX-License-Identifier: GPL-2.0
/*
 * dkms-exclusive: lkmtest's fixture of a DKMS package restricted to 6.1
 * kernels. dkmsx_value has no prototype: W=1 (-Wmissing-prototypes) warns
 * on line 12, a plain build does not.
 */
#include <linux/init.h>
#include <linux/module.h>

MODULE_LICENSE("GPL");

int dkmsx_value(void)
{
	return 1;
}

static int __init dkmsx_init(void)
{
	return dkmsx_value() - 1;
}
module_init(dkmsx_init);
