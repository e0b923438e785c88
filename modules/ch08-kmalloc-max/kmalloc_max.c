// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmalloc_max: the largest kmalloc() (Linux Kernel Programming, chapter 8,
 * "slab3_maxsize"). Allocates 0, stepsz, 2·stepsz… bytes, printing each
 * returned address, until kmalloc() fails: kmalloc(0) returns
 * ZERO_SIZE_PTR (16), never NULL, and the last success is the largest
 * multiple of stepsz not above KMALLOC_MAX_SIZE. Loading always fails with
 * ENOMEM.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("the largest kmalloc(); kmalloc(0)");
MODULE_LICENSE("Dual MIT/GPL");

static int stepsz = 204800;
module_param(stepsz, int, 0444);
MODULE_PARM_DESC(stepsz, "amount to grow each request by, in bytes (default 204800)");

static int __init kmalloc_max_init(void)
{
	size_t size2alloc = 0;

	if (stepsz <= 0)
		return -EINVAL;
	for (;;) {
		void *p = kmalloc(size2alloc, GFP_KERNEL);

		if (!p) {
			pr_alert("kmalloc fail, size2alloc=%zu\n", size2alloc);
			return -ENOMEM;
		}
		/* The address itself varies; only ZERO_SIZE_PTR is shown as is. */
		if (ZERO_OR_NULL_PTR(p))
			pr_info("kmalloc(%7zu) = 0x%016lx (ZERO_SIZE_PTR)\n", size2alloc, (unsigned long)p);
		else
			pr_info("kmalloc(%7zu) = ok\n", size2alloc);
		kfree(p);
		size2alloc += stepsz;
	}
}

module_init(kmalloc_max_init);
