// SPDX-License-Identifier: GPL-2.0
/* A module written as the book's template: its Makefile is the common one. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/sched.h>
#include "../../convenient.h"

static int __init lkm_template_init(void)
{
	MSG("inserted\n");
	return 0;
}

static void __exit lkm_template_exit(void)
{
	MSG("removed\n");
}

module_init(lkm_template_init);
module_exit(lkm_template_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("book-style template module");
