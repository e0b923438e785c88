// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmalloc_wastage: how much memory kmalloc() really hands out (Linux Kernel
 * Programming, chapter 8, "slab4_actualsize"). Starting at 100 bytes and
 * growing linearly by stepsz, it allocates, asks ksize() for the size it
 * actually got, prints the requested size, the actual size, the wastage and
 * its percentage, and frees, until kmalloc() fails. Loading therefore
 * always fails with ENOMEM: the table is the point. The failing request is
 * made without __GFP_NOWARN, so the page allocator's one-time WARNING about
 * the too-large order shows as in the book.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("kmalloc() wastage: requested vs actual (ksize) sizes");
MODULE_LICENSE("Dual MIT/GPL");

static int stepsz = 204800;
module_param(stepsz, int, 0444);
MODULE_PARM_DESC(stepsz, "amount to grow each request by, in bytes (default 204800)");

static int __init kmalloc_wastage_init(void)
{
	size_t size2alloc = 100;	/* not 0: the percentage divides by it */

	if (stepsz <= 0) {
		pr_err("kmalloc_wastage: stepsz must be > 0 (got %d)\n", stepsz);
		return -EINVAL;
	}
	pr_info("kmalloc_wastage: inserted\n");
	pr_info("kmalloc(      n) :  Actual : Wastage : Waste %%\n");
	for (;;) {
		void *p = kmalloc(size2alloc, GFP_KERNEL);
		size_t actual;

		if (!p) {
			pr_alert("kmalloc fail, size2alloc=%zu\n", size2alloc);
			return -ENOMEM;
		}
		actual = ksize(p);
		pr_info("kmalloc(%7zu) : %7zu : %7zu : %3zu%%\n", size2alloc, actual,
			actual - size2alloc, (actual - size2alloc) * 100 / size2alloc);
		kfree(p);
		size2alloc += stepsz;
	}
}

/* No exit function is needed: init always fails, so the module never stays loaded. */
module_init(kmalloc_wastage_init);
