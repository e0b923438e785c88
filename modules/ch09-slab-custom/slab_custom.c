// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * slab_custom: a custom slab cache (Linux Kernel Programming, chapter 9,
 * "slab_custom"). Creates the cache "our_ctx" for a 328-byte structure with
 * red zones and poisoning, optionally with a constructor, allocates one
 * object from it and reports the object size and ksize(). While the module
 * is loaded the cache shows in /proc/slabinfo (debug flags keep it from
 * being merged with another cache); unloading destroys it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a custom slab cache with a constructor");
MODULE_LICENSE("Dual MIT/GPL");

static unsigned int use_ctor = 1;
module_param(use_ctor, uint, 0);
MODULE_PARM_DESC(use_ctor, "use the constructor (default 1)");

struct myctx {
	u32 iarr[10];
	u64 uarr[10];
	s8 uname[128], passwd[16], config[64];
};

static struct kmem_cache *ctx_cachep;
static struct myctx *obj;

static void our_ctor(void *new)
{
	struct myctx *ctx = new;

	pr_info("in ctor: just alloced mem object is @ 0x%p\n", ctx);
	memset(ctx, 0, sizeof(*ctx));
	snprintf(ctx->config, sizeof(ctx->config), "%d.%d", task_tgid_nr(current), task_pid_nr(current));
}

static int __init slab_custom_init(void)
{
	pr_info("inserted\n");
	pr_info("sizeof our ctx structure is %zu bytes; using custom constructor routine? %s\n",
		sizeof(struct myctx), use_ctor ? "yes" : "no");
	ctx_cachep = kmem_cache_create("our_ctx", sizeof(struct myctx), sizeof(long),
				       SLAB_POISON | SLAB_RED_ZONE | SLAB_HWCACHE_ALIGN,
				       use_ctor ? our_ctor : NULL);
	if (!ctx_cachep)
		return -ENOMEM;
	obj = kmem_cache_alloc(ctx_cachep, GFP_KERNEL);
	if (!obj) {
		kmem_cache_destroy(ctx_cachep);
		return -ENOMEM;
	}
	pr_info("our cache object size is %u bytes; actual ksize=%zu\n", kmem_cache_size(ctx_cachep), ksize(obj));
	return 0;
}

static void __exit slab_custom_exit(void)
{
	kmem_cache_free(ctx_cachep, obj);
	kmem_cache_destroy(ctx_cachep);
	pr_info("custom cache destroyed; removed\n");
}

module_init(slab_custom_init);
module_exit(slab_custom_exit);
