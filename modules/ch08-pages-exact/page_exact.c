// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * page_exact: alloc_pages_exact() (Linux Kernel Programming, chapter 8,
 * "page_exact_loop"). Three times, 33 KiB (8 pages and 1 KiB) are taken with
 * alloc_pages_exact(): the 9 pages are physically contiguous, and unlike
 * __get_free_pages() of order 4 (16 pages), the 7 pages beyond the ninth
 * are given back at once.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/string.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("alloc_pages_exact(): exact-size physically contiguous memory");
MODULE_LICENSE("Dual MIT/GPL");

#define MAXTIMES 3
#define SIZE (33 * 1024)

static void *ptr[MAXTIMES];

static int __init page_exact_init(void)
{
	unsigned int npages = DIV_ROUND_UP(SIZE, PAGE_SIZE);
	int i;

	for (i = 0; i < MAXTIMES; i++) {
		unsigned long first;
		unsigned int j;

		ptr[i] = alloc_pages_exact(SIZE, GFP_KERNEL);
		if (!ptr[i]) {
			while (--i >= 0)
				free_pages_exact(ptr[i], SIZE);
			return -ENOMEM;
		}
		memset(ptr[i], 'x', SIZE);
		pr_info("%d: alloc_pages_exact() alloc'ed %d bytes memory (%lu pages + rem %lu bytes)\n",
			i, SIZE, SIZE / PAGE_SIZE, SIZE % PAGE_SIZE);
		first = page_to_pfn(virt_to_page(ptr[i]));
		for (j = 1; j < npages; j++)
			if (page_to_pfn(virt_to_page(ptr[i] + j * PAGE_SIZE)) != first + j)
				break;
		pr_info("%d: %u pages, PFNs %s\n", i, npages, j == npages ? "consecutive" : "NOT consecutive");
	}
	return 0;
}

static void __exit page_exact_exit(void)
{
	int i;

	for (i = 0; i < MAXTIMES; i++)
		free_pages_exact(ptr[i], SIZE);
	pr_info("mem freed, removed\n");
}

module_init(page_exact_init);
module_exit(page_exact_exit);
