// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * show_kernel_vas: the kernel's virtual address space (Linux Kernel
 * Programming, chapter 7, "show_kernel_vas"): the bounds of its regions,
 * from the highest down, and the size of the user VAS (TASK_SIZE_MAX).
 * The values come from the arch's headers; on x86_64 with 4-level paging
 * and no KASLR (nokaslr, no CONFIG_RANDOMIZE_MEMORY) they are constants.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("the kernel virtual address space layout");
MODULE_LICENSE("Dual MIT/GPL");

#define MB(x) ((x) >> 20)

static int __init show_kernel_vas_init(void)
{
	pr_info("inserted\n");
	pr_info("PAGE_SIZE = %lu\n", PAGE_SIZE);
	pr_info("module region:  0x%016lx - 0x%016lx [%6lu MB]\n",
		(unsigned long)MODULES_VADDR, (unsigned long)MODULES_END, MB(MODULES_END - MODULES_VADDR));
#ifdef CONFIG_X86_64
	pr_info("vmemmap start:  0x%016lx\n", (unsigned long)VMEMMAP_START);
#endif
	pr_info("vmalloc region: 0x%016lx - 0x%016lx [%6lu GB]\n",
		(unsigned long)VMALLOC_START, (unsigned long)VMALLOC_END, (VMALLOC_END - VMALLOC_START) >> 30);
	pr_info("lowmem start:   0x%016lx (PAGE_OFFSET)\n", (unsigned long)PAGE_OFFSET);
	pr_info("user VAS (TASK_SIZE_MAX) = %lu bytes [%lu GB]\n",
		(unsigned long)TASK_SIZE_MAX, (unsigned long)TASK_SIZE_MAX >> 30);
	return 0;
}

static void __exit show_kernel_vas_exit(void)
{
	pr_info("removed\n");
}

module_init(show_kernel_vas_init);
module_exit(show_kernel_vas_exit);
