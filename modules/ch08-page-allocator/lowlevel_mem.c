// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lowlevel_mem: the page allocator (Linux Kernel Programming, chapter 8,
 * "lowlevel_mem"). Allocates with __get_free_page(), __get_free_pages() of
 * 2^order pages, get_zeroed_page(), alloc_page() and alloc_pages(); checks
 * what the book shows by printing addresses: that a 2^order block is
 * physically contiguous (consecutive PFNs), that every address is in the
 * kernel's direct map, and that the zeroed page is zero. Frees everything
 * on unload, and on any allocation failure.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("page allocator APIs: contiguous PFNs, direct-mapped KVAs");
MODULE_LICENSE("Dual MIT/GPL");

static int bsa_alloc_order = 3;
module_param_named(order, bsa_alloc_order, int, 0660);
MODULE_PARM_DESC(order, "order of the multi-page allocation (2^order pages; default 3)");

static unsigned long gp1, gp2, gzp;
static struct page *pg4, *pg5;

#define ORDER5 5

/* Prints the PFNs of n pages from kva and checks they are consecutive. */
static void check_pages(const char *what, unsigned long kva, unsigned int n)
{
	unsigned long first = page_to_pfn(virt_to_page((void *)kva));
	unsigned int i;

	for (i = 0; i < n; i++) {
		void *va = (void *)(kva + i * PAGE_SIZE);

		if (!virt_addr_valid(va)) {
			pr_notice("%s: page %u at %p is not in the direct map\n", what, i, va);
			return;
		}
		if (page_to_pfn(virt_to_page(va)) != first + i) {
			pr_notice(" *** physical NON-contiguity detected (i=%u) ***\n", i);
			return;
		}
	}
	pr_info("%s: %u pages, PFNs %lu..%lu consecutive, all in the direct map\n", what, n, first, first + n - 1);
}

static void free_all(void)
{
	if (pg5)
		__free_pages(pg5, ORDER5);
	if (pg4)
		__free_page(pg4);
	if (gzp)
		free_page(gzp);
	if (gp2)
		free_pages(gp2, bsa_alloc_order);
	if (gp1)
		free_page(gp1);
	gp1 = gp2 = gzp = 0;
	pg4 = pg5 = NULL;
}

static int __init lowlevel_mem_init(void)
{
	unsigned long i;

	if (bsa_alloc_order < 0) {
		pr_err("order %d is invalid\n", bsa_alloc_order);
		return -EINVAL;
	}
	pr_info("PAGE_SIZE = %lu bytes\n", PAGE_SIZE);

	gp1 = __get_free_page(GFP_KERNEL);
	if (!gp1)
		goto nomem;
	check_pages("1. __get_free_page()", gp1, 1);

	gp2 = __get_free_pages(GFP_KERNEL | __GFP_ZERO, bsa_alloc_order);
	if (!gp2)
		goto nomem;
	check_pages("2. __get_free_pages()", gp2, 1U << bsa_alloc_order);

	gzp = get_zeroed_page(GFP_KERNEL);
	if (!gzp)
		goto nomem;
	for (i = 0; i < PAGE_SIZE; i++) {
		if (((u8 *)gzp)[i]) {
			pr_notice("3. get_zeroed_page(): byte %lu is not zero\n", i);
			break;
		}
	}
	if (i == PAGE_SIZE)
		pr_info("3. get_zeroed_page(): all %lu bytes zero\n", PAGE_SIZE);

	pg4 = alloc_page(GFP_KERNEL);
	if (!pg4)
		goto nomem;
	check_pages("4. alloc_page()", (unsigned long)page_address(pg4), 1);

	pg5 = alloc_pages(GFP_KERNEL, ORDER5);
	if (!pg5)
		goto nomem;
	check_pages("5. alloc_pages()", (unsigned long)page_address(pg5), 1U << ORDER5);
	return 0;

nomem:
	pr_info("allocation failed (order %d); freeing what was taken\n", bsa_alloc_order);
	free_all();
	return -ENOMEM;
}

static void __exit lowlevel_mem_exit(void)
{
	free_all();
	pr_info("freed the page allocator memory; removed\n");
}

module_init(lowlevel_mem_init);
module_exit(lowlevel_mem_exit);
