// SPDX-License-Identifier: GPL-2.0
/*
 * partial-line: lkmtest's own fixture. Its init, its exit and its "poke"
 * parameter each print a line without a trailing newline, which the
 * kernel keeps from /dev/kmsg readers until the next record is logged:
 * each line must still be in the kernel log of the step that printed it.
 * Its file name has a dash; the kernel names the module partial_line.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

MODULE_DESCRIPTION("lkmtest fixture: printks without a trailing newline");
MODULE_LICENSE("GPL");

static int poke_set(const char *val, const struct kernel_param *kp)
{
	pr_info("partial_line: poked with %s", val);
	return 0;
}

static const struct kernel_param_ops poke_ops = {
	.set = poke_set,
};
module_param_cb(poke, &poke_ops, NULL, 0200);

static int __init partial_line_init(void)
{
	pr_info("partial_line: loaded, no newline");
	return 0;
}

static void __exit partial_line_exit(void)
{
	pr_info("partial_line: unloaded, no newline");
}

module_init(partial_line_init);
module_exit(partial_line_exit);
