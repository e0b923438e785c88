// SPDX-License-Identifier: GPL-2.0
/*
 * dkmsdrv_core: the core module of lkmtest's DKMS fixture. It exports
 * dkmsdrv_core_answer() for dkmsdrv_client and logs the version the
 * package's dkms.conf passed down to the build (DRV_VERSION).
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include "dkmsdrv.h"

int dkmsdrv_core_answer(void)
{
	return DKMSDRV_ANSWER;
}
EXPORT_SYMBOL_GPL(dkmsdrv_core_answer);

static int __init dkmsdrv_core_init(void)
{
	pr_info("dkmsdrv_core: loaded, version %s\n", DRV_VERSION);
	return 0;
}

static void __exit dkmsdrv_core_exit(void)
{
	pr_info("dkmsdrv_core: unloaded\n");
}

module_init(dkmsdrv_core_init);
module_exit(dkmsdrv_core_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(DRV_VERSION);
MODULE_DESCRIPTION("lkmtest DKMS fixture: the core module");
