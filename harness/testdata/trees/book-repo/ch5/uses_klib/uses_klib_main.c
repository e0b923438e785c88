// SPDX-License-Identifier: GPL-2.0
/* Links ../../klib.o into the module and includes ../../klib.h. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/sched.h>
#include "../../convenient.h"
#include "../../klib.h"

static int __init uses_klib_init(void)
{
	MSG("klib_sum(2, 40) = %d\n", klib_sum(2, 40));
	return 0;
}

static void __exit uses_klib_exit(void)
{
	MSG("bye\n");
}

module_init(uses_klib_init);
module_exit(uses_klib_exit);
MODULE_LICENSE("Dual MIT/GPL");
