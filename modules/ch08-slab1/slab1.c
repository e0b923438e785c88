// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * slab1: kmalloc(), kzalloc() and kfree() (Linux Kernel Programming,
 * chapter 8, "slab1"), written anew for lkmtest. A 1 KB buffer from
 * kmalloc(), filled with 'm'; a context structure of 1360 bytes from
 * kzalloc(), which must be all zeroes; what ksize() says each really got
 * (its kmalloc cache); and ksize() of sizes on both sides of every kmalloc
 * cache boundary, compared with kmalloc_size_roundup() (6.1+), which says
 * the same without allocating. Both buffers are freed at unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/version.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch8 slab1: kmalloc, kzalloc, ksize and kfree");
MODULE_LICENSE("Dual MIT/GPL");

struct myctx {
	u32 iarr[100];
	u64 uarr[100];
	char uname[128], passwd[16], config[16];
};

static char *gkptr;
static struct myctx *ctx;

/* Each side of every kmalloc cache boundary, and two page-allocator sizes. */
static const size_t sizes[] = {
	1, 8, 9, 16, 17, 32, 33, 64, 65, 96, 97, 128, 129, 192, 193, 256, 257,
	512, 513, 1024, 1025, 2048, 2049, 4096, 4097, 8192, 8193, 16385,
};

static int show_ksizes(void)
{
	int i, agree __maybe_unused = 0;

	pr_info("kmalloc(    n): ksize()\n");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *p = kmalloc(sizes[i], GFP_KERNEL);
		size_t got;

		if (!p)
			return -ENOMEM;
		got = ksize(p);
		kfree(p);
		pr_info("kmalloc(%5zu): %5zu\n", sizes[i], got);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
		agree += kmalloc_size_roundup(sizes[i]) == got;
#endif
	}
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)
	pr_info("kmalloc_size_roundup() agrees: %d of %zu\n", agree, ARRAY_SIZE(sizes));
#else
	pr_info("kmalloc_size_roundup(): none before 6.1\n");
#endif
	return 0;
}

static bool all_zero(const void *buf, size_t len)
{
	const u8 *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static int __init slab1_init(void)
{
	void *zp;
	int ret;

	gkptr = kmalloc(1024, GFP_KERNEL);
	if (!gkptr)
		return -ENOMEM;
	pr_info("kmalloc(1024) succeeded: ksize %zu\n", ksize(gkptr));
	memset(gkptr, 'm', 1024);
	print_hex_dump(KERN_INFO, "gkptr after memset: ", DUMP_PREFIX_OFFSET, 16, 1,
		       gkptr, 32, true);
	pr_info("last byte: '%c'\n", gkptr[1023]);

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx) {
		ret = -ENOMEM;
		goto out_gkptr;
	}
	pr_info("kzalloc(%zu) succeeded: ksize %zu, all %zu bytes zero: %s\n", sizeof(*ctx),
		ksize(ctx), sizeof(*ctx), all_zero(ctx, sizeof(*ctx)) ? "yes" : "no");
	print_hex_dump(KERN_INFO, "ctx: ", DUMP_PREFIX_OFFSET, 16, 1, ctx, 32, false);

	/* kmalloc(0) is not NULL but ZERO_SIZE_PTR, which kfree() accepts. */
	zp = kmalloc(0, GFP_KERNEL);
	pr_info("kmalloc(0) = 0x%lx (ZERO_SIZE_PTR: %s), ksize %zu\n", (unsigned long)zp,
		zp == ZERO_SIZE_PTR ? "yes" : "no", ksize(zp));
	kfree(zp);

	ret = show_ksizes();
	if (ret)
		goto out_ctx;
	return 0;
out_ctx:
	kfree(ctx);
out_gkptr:
	kfree(gkptr);
	return ret;
}

static void __exit slab1_exit(void)
{
	kfree(ctx);
	kfree(gkptr);
	pr_info("freed slab memory, removed\n");
}

module_init(slab1_init);
module_exit(slab1_exit);
