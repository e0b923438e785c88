// SPDX-License-Identifier: MIT
/*
 * flood_lkm: lkmtest's console-flood fixture. Its init prints "lines"
 * numbered lines (default 200000), then a last line with the count.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("lkmtest fixture: a console flood");

static int lines = 200000;
module_param(lines, int, 0444);

static int __init flood_init(void)
{
	int i;

	for (i = 0; i < lines; i++) {
		pr_info("flood_lkm: line %d of a flood\n", i);
		if (i % 1000 == 0)
			cond_resched();
	}
	pr_info("flood_lkm: done after %d lines\n", lines);
	return 0;
}

static void __exit flood_exit(void)
{
}

module_init(flood_init);
module_exit(flood_exit);
