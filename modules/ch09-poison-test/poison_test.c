// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * poison_test: the first edition's use-after-free on a custom slab cache
 * (Linux Kernel Programming, 1st edition, chapter 9, poison_test), written
 * anew for lkmtest. A cache of 152-byte objects with poisoning and red
 * zones; init allocates one object and fills it; with buggy=1 exit frees
 * it and then writes into it. KASAN reports the write; buggy=0 is the
 * fixed version.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("LKP 1E ch9 poison_test: a use-after-free on a slab cache, for KASAN");

static bool buggy;
module_param(buggy, bool, 0444);
MODULE_PARM_DESC(buggy, "1: write into the object after freeing it");

struct poison_obj {
	char data[152];
};

static struct kmem_cache *cache;
static struct poison_obj *obj;

static noinline void use_the_object(struct poison_obj *p, char c, size_t n)
{
	memset(p->data, c, n);
}

static int __init poison_test_init(void)
{
	cache = kmem_cache_create("poison_test", sizeof(struct poison_obj), 0,
				  SLAB_POISON | SLAB_RED_ZONE | SLAB_HWCACHE_ALIGN, NULL);
	if (!cache)
		return -ENOMEM;
	obj = kmem_cache_alloc(cache, GFP_KERNEL);
	if (!obj) {
		kmem_cache_destroy(cache);
		return -ENOMEM;
	}
	use_the_object(obj, 'z', 16);
	pr_info("object of %zu bytes allocated and filled\n", sizeof(*obj));
	return 0;
}

static void __exit poison_test_exit(void)
{
	kmem_cache_free(cache, obj);
	if (buggy)
		use_the_object(obj, '!', 10);	/* after the free */
	kmem_cache_destroy(cache);
	pr_info("removed\n");
}

module_init(poison_test_init);
module_exit(poison_test_exit);
