// SPDX-License-Identifier: GPL-2.0
/*
 * dkmsdrv_client: the second module of lkmtest's DKMS fixture; it uses
 * the core module's export, so it loads only after dkmsdrv_core.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include "dkmsdrv.h"

static int __init dkmsdrv_client_init(void)
{
	pr_info("dkmsdrv_client: core answers %d\n", dkmsdrv_core_answer());
	return 0;
}

static void __exit dkmsdrv_client_exit(void)
{
	pr_info("dkmsdrv_client: unloaded\n");
}

module_init(dkmsdrv_client_init);
module_exit(dkmsdrv_client_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lkmtest DKMS fixture: a user of the core module");
