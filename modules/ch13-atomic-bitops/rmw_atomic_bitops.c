// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * rmw_atomic_bitops: atomic read-modify-write bit operations (Linux Kernel
 * Programming, chapter 13, "rmw_atomic_bitops"). One unsigned long, zero
 * at start, goes through set_bit(), clear_bit(), change_bit() and the
 * test_and_*() variants; each step prints the value, so the sequence of
 * values (and the old bits the test_and_*() calls return) is exact.
 */
#include <linux/bitops.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/spinlock.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("atomic RMW bit operations on one word");
MODULE_LICENSE("Dual MIT/GPL");

#define MODNAME "rmw_atomic_bitops"

static unsigned long mem;
static DEFINE_SPINLOCK(mem_lock);

static void show_mem(int i, const char *what)
{
	pr_info(MODNAME ": %2d:%27s: mem : %3lu = 0x%02lx\n", i, what, mem, mem);
}

static int __init rmw_atomic_bitops_init(void)
{
	int ret, bit;

	show_mem(1, "at init");
	set_bit(7, &mem);
	show_mem(2, "optimal: via set_bit(7,&mem)");

	/* The same, the slow way: a non-atomic RMW made safe by a lock. */
	spin_lock(&mem_lock);
	mem |= BIT(7);
	spin_unlock(&mem_lock);
	show_mem(3, "set msb suboptimal: 7,&mem");

	clear_bit(7, &mem);
	show_mem(4, "clear_bit(7,&mem)");
	change_bit(7, &mem);
	show_mem(5, "change_bit(7,&mem)");

	ret = test_and_set_bit(0, &mem);
	show_mem(6, "test_and_set_bit(0,&mem)");
	pr_info(MODNAME ":        ret = %d\n", ret);
	ret = test_and_clear_bit(0, &mem);
	show_mem(7, "test_and_clear_bit(0,&mem)");
	pr_info(MODNAME ":        ret (prev value of bit 0) = %d\n", ret);
	ret = test_and_change_bit(1, &mem);
	show_mem(8, "test_and_change_bit(1,&mem)");
	pr_info(MODNAME ":        ret (prev value of bit 1) = %d\n", ret);

	pr_info(MODNAME ": %2d: test_bit(7-0,&mem):\n", 9);
	for (bit = 7; bit >= 0; bit--)
		pr_info(MODNAME ":   bit %d (0x%02lx) : %s\n", bit, BIT(bit), test_bit(bit, &mem) ? "set" : "cleared");
	return 0;
}

static void __exit rmw_atomic_bitops_exit(void)
{
	mem = 0;
	pr_info(MODNAME ": removed\n");
}

module_init(rmw_atomic_bitops_init);
module_exit(rmw_atomic_bitops_exit);
