// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * slab3_maxsize: the largest kmalloc() (Linux Kernel Programming, chapter
 * 8, "slab3_maxsize"), written anew for lkmtest; ch08-kmalloc-max checks
 * the book's loop row by row against lkmtest's model, this one what the
 * limit is and where it comes from:
 *  - the constants: PAGE_SIZE, KMALLOC_MAX_CACHE_SIZE (the largest kmalloc
 *    cache; above it kmalloc() takes whole pages from the page allocator),
 *    the page allocator's largest order (MAX_ORDER - 1 before 6.4, whose
 *    MAX_ORDER became inclusive, MAX_PAGE_ORDER from 6.8) and
 *    KMALLOC_MAX_SIZE = PAGE_SIZE << that order;
 *  - where memory of a size comes from: a slab, or a compound page of the
 *    order that fits, page-aligned and direct-mapped;
 *  - the largest size kmalloc() gives, found by bisection with
 *    __GFP_NOWARN (no warning);
 *  - the book's loop, 0, stepsz, 2·stepsz… without __GFP_NOWARN, printing
 *    only its count and last success: the first failure warns (once per
 *    boot) and insmod fails with ENOMEM. stepsz=0 skips the loop: the
 *    module then loads.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/version.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch8 slab3_maxsize: the largest kmalloc() and why");
MODULE_LICENSE("Dual MIT/GPL");

static int stepsz = 204800;
module_param(stepsz, int, 0444);
MODULE_PARM_DESC(stepsz, "the loop's step in bytes (default 204800; 0: no loop)");

#ifdef MAX_PAGE_ORDER		/* 6.8+: inclusive, renamed */
#define TOP_ORDER MAX_PAGE_ORDER
#define ORDER_NAME "MAX_PAGE_ORDER = 10 (inclusive)"
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define TOP_ORDER MAX_ORDER
#define ORDER_NAME "MAX_ORDER = 10 (inclusive)"
#else
#define TOP_ORDER (MAX_ORDER - 1)
#define ORDER_NAME "MAX_ORDER = 11 (exclusive)"
#endif

static void show_source(size_t n)
{
	void *p = kmalloc(n, GFP_KERNEL);
	struct page *page;

	if (!p) {
		pr_info("kmalloc(%7zu): NULL\n", n);
		return;
	}
	page = virt_to_head_page(p);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	if (folio_test_slab(page_folio(page)))
#else
	if (PageSlab(page))
#endif
		pr_info("kmalloc(%7zu): a slab object, ksize %zu\n", n, ksize(p));
	else
		pr_info("kmalloc(%7zu): pages, order %u (%lu KB), page-aligned: %s, direct-mapped: %s\n",
			n, compound_order(page), (PAGE_SIZE << compound_order(page)) >> 10,
			PAGE_ALIGNED(p) ? "yes" : "no", virt_addr_valid(p) ? "yes" : "no");
	kfree(p);
}

/* The largest n in [lo, hi) that kmalloc() gives, lo known to succeed. */
static size_t largest_kmalloc(size_t lo, size_t hi)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		void *p = kmalloc(mid, GFP_KERNEL | __GFP_NOWARN);

		if (p)
			lo = mid;
		else
			hi = mid;
		kfree(p);
	}
	return lo;
}

static int book_loop(void)
{
	size_t size2alloc = 0, last = 0;
	int ok = 0;

	for (;;) {
		void *p = kmalloc(size2alloc, GFP_KERNEL);

		if (!p)
			break;
		kfree(p);
		ok++;
		last = size2alloc;
		size2alloc += stepsz;
	}
	pr_info("loop of stepsz %d: %d successes, the last kmalloc(%zu)\n", stepsz, ok, last);
	pr_alert("kmalloc fail, size2alloc=%zu\n", size2alloc);
	return -ENOMEM;
}

static int __init slab3_maxsize_init(void)
{
	size_t largest;

	if (stepsz < 0)
		return -EINVAL;
	pr_info("PAGE_SIZE = %lu, KMALLOC_MAX_CACHE_SIZE = %lu\n", PAGE_SIZE, KMALLOC_MAX_CACHE_SIZE);
	pr_info("%s: the largest page block is order %d\n", ORDER_NAME, TOP_ORDER);
	pr_info("KMALLOC_MAX_SIZE = %lu (2^%d)\n", KMALLOC_MAX_SIZE, KMALLOC_SHIFT_MAX);
	show_source(KMALLOC_MAX_CACHE_SIZE);
	show_source(KMALLOC_MAX_CACHE_SIZE + 1);
	show_source(KMALLOC_MAX_SIZE);
	largest = largest_kmalloc(KMALLOC_MAX_CACHE_SIZE, 2 * KMALLOC_MAX_SIZE);
	pr_info("the largest kmalloc(), by bisection with __GFP_NOWARN: %zu\n", largest);
	if (!stepsz)
		return 0;
	return book_loop();
}

static void __exit slab3_maxsize_exit(void)
{
	pr_info("removed\n");
}

module_init(slab3_maxsize_init);
module_exit(slab3_maxsize_exit);
