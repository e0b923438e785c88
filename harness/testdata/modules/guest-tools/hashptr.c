// SPDX-License-Identifier: GPL-2.0
/* Prints a pointer with %p: hashed once the kernel's RNG is seeded. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/random.h>

static int marker;

static int __init hashptr_init(void)
{
	pr_info("hashptr: p=%p\n", &marker);
	pr_info("hashptr: random=%u\n", get_random_u32());
	return 0;
}

static void __exit hashptr_exit(void)
{
}

module_init(hashptr_init);
module_exit(hashptr_exit);
MODULE_LICENSE("GPL");
