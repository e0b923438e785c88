// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

int symdep_answer(void);

static int __init consumer_init(void)
{
	pr_info("symdep_consumer: the provider answers %d\n", symdep_answer());
	return 0;
}

static void __exit consumer_exit(void)
{
}

module_init(consumer_init);
module_exit(consumer_exit);
MODULE_LICENSE("GPL");
