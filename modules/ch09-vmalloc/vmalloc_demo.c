// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vmalloc_demo: the vmalloc family (Linux Kernel Programming, chapter 9,
 * "vmalloc_demo"). vmalloc() and vzalloc() memory lives in the vmalloc
 * region; kvmalloc() uses kmalloc when it can (small sizes, direct map) and
 * falls back to vmalloc for large ones; kcalloc() is kmalloc. The module
 * reports, for each, which region the kernel says the address is in
 * (is_vmalloc_addr(), virt_addr_valid()), and that vzalloc() zeroed its
 * memory. Every allocation is freed with the matching free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/version.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("vmalloc, vzalloc, kvmalloc, kcalloc: which memory region");
MODULE_LICENSE("Dual MIT/GPL");

static int kvnum = 5 * 1024 * 1024;
module_param(kvnum, int, 0644);
MODULE_PARM_DESC(kvnum, "bytes to kvmalloc() (default 5 MiB, at least 16)");

#define VSZ 10000
#define NARR 1000

static void *vrnd, *vzero, *kv, *vro;
static u64 *karr;

static const char *where(const void *p)
{
	if (is_vmalloc_addr(p))
		return "vmalloc region";
	if (virt_addr_valid(p))
		return "direct map";
	return "elsewhere";
}

static void free_all(void)
{
	vfree(vro);
	kfree(karr);
	kvfree(kv);
	vfree(vzero);
	vfree(vrnd);
}

static int __init vmalloc_demo_init(void)
{
	size_t i;

	if (kvnum < 16) {
		pr_warn("kvnum must be >= 16 bytes (curr it's %d bytes)\n", kvnum);
		return -EINVAL;
	}
	vrnd = vmalloc(VSZ);
	vzero = vzalloc(VSZ);
	kv = kvmalloc(kvnum, GFP_KERNEL);
	karr = kcalloc(NARR, sizeof(u64), GFP_KERNEL);
	if (!vrnd || !vzero || !kv || !karr) {
		free_all();
		return -ENOMEM;
	}
	pr_info("1. vmalloc(%d): %s\n", VSZ, where(vrnd));
	for (i = 0; i < VSZ && !((u8 *)vzero)[i]; i++)
		;
	pr_info("2. vzalloc(%d): %s, %s\n", VSZ, where(vzero), i == VSZ ? "all zero" : "NOT zeroed");
	pr_info("3. kvmalloc(%d): %s\n", kvnum, where(kv));
	pr_info("4. kcalloc(%d, %zu): %s\n", NARR, sizeof(u64), where(karr));
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 8, 0)
	/* 5.4's include/linux/vmalloc.h: __vmalloc(size, gfp_mask, prot). */
	vro = __vmalloc(42 * PAGE_SIZE, GFP_KERNEL, PAGE_KERNEL_RO);
	if (!vro) {
		free_all();
		return -ENOMEM;
	}
	pr_info("5. __vmalloc(42 pages, PAGE_KERNEL_RO): %s\n", where(vro));
#else
	pr_info("5. >= 5.8.0: __vmalloc() has no page protection argument; skipped\n");
#endif
	return 0;
}

static void __exit vmalloc_demo_exit(void)
{
	free_all();
	pr_info("removed\n");
}

module_init(vmalloc_demo_init);
module_exit(vmalloc_demo_exit);
