// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

int symdep_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(symdep_answer);

static int __init provider_init(void)
{
	return 0;
}

static void __exit provider_exit(void)
{
}

module_init(provider_init);
module_exit(provider_exit);
MODULE_LICENSE("GPL");
