// SPDX-License-Identifier: MIT
/*
 * echo_lkm: lkmtest's fixture for literal arguments. It prints its string
 * parameter "msg" between brackets.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: print a parameter");

static char *msg = "";
module_param(msg, charp, 0444);

static int __init echo_init(void)
{
	pr_info("echo_lkm: [%s]\n", msg);
	return 0;
}

static void __exit echo_exit(void)
{
}

module_init(echo_init);
module_exit(echo_exit);
