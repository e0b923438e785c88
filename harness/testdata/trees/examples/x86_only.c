// SPDX-License-Identifier: GPL-2.0
/* Reads the TSC through an x86 MSR: x86 only. */
#include <linux/init.h>
#include <linux/module.h>
#include <asm/msr.h>

static int __init x86_only_init(void)
{
	u64 tsc;

	rdmsrl(MSR_IA32_TSC, tsc);
	pr_info("x86_only: tsc read\n");
	return 0;
}

static void __exit x86_only_exit(void)
{
}

module_init(x86_only_init);
module_exit(x86_only_exit);
MODULE_LICENSE("GPL");
