// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * show_kernel_vas: the kernel's virtual address space (Linux Kernel
 * Programming, chapter 7, "show_kernel_vas"): the bounds of its regions
 * and the size of the user VAS (TASK_SIZE_MAX), from the arch's headers,
 * then where the kernel really put three things: this module's code, a
 * vmalloc() buffer and a kmalloc() buffer.
 *
 * On x86_64 with 4-level paging and no KASLR (nokaslr, no
 * CONFIG_RANDOMIZE_MEMORY) the bounds are constants. On arm64 (booted
 * without KASLR) they follow from CONFIG_ARM64_VA_BITS and the page size,
 * and the layout changed between 6.1 and 6.12: the module region grew to
 * 2 GiB, vmemmap, the PCI I/O window and the fixmap moved to the top.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>
#ifdef CONFIG_ARM64
#include <asm/fixmap.h>
#endif

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("the kernel virtual address space layout");
MODULE_LICENSE("Dual MIT/GPL");

#define MB(x) ((x) >> 20)

#ifdef CONFIG_ARM64
/* Defined since 5.4's flipped layout or later: the same values for 5.4. */
#ifndef VA_BITS_MIN
#define VA_BITS_MIN VA_BITS
#endif
#ifndef PAGE_END
#define PAGE_END (-(UL(1) << (VA_BITS_MIN - 1)))
#endif
#ifndef VMEMMAP_END
#define VMEMMAP_END (VMEMMAP_START + VMEMMAP_SIZE)
#endif
/* 6.1's asm/processor.h: 1 << VA_BITS; 5.4's has only TASK_SIZE_64. */
#ifndef TASK_SIZE_MAX
#define TASK_SIZE_MAX (UL(1) << VA_BITS)
#endif

/* arm64's regions, as Documentation/arch/arm64/memory.rst names them. */
static void show_arm64(void)
{
	pr_info("arm64: VA_BITS %d, VA_BITS_MIN %d, vabits_actual %llu, sizeof(struct page) %zu\n",
		VA_BITS, VA_BITS_MIN, (unsigned long long)vabits_actual, sizeof(struct page));
	pr_info("fixmap region:  0x%016lx - 0x%016lx\n",
		(unsigned long)FIXADDR_START, (unsigned long)FIXADDR_TOP);
	pr_info("PCI I/O region: 0x%016lx - 0x%016lx [%6lu MB]\n",
		(unsigned long)PCI_IO_START, (unsigned long)PCI_IO_END, MB(PCI_IO_END - PCI_IO_START));
	pr_info("vmemmap region: 0x%016lx - 0x%016lx [%6lu MB]\n",
		(unsigned long)VMEMMAP_START, (unsigned long)VMEMMAP_END,
		MB(VMEMMAP_END - VMEMMAP_START));
	pr_info("linear map:     0x%016lx - 0x%016lx [%6lu GB] (PAGE_OFFSET - PAGE_END)\n",
		(unsigned long)PAGE_OFFSET, (unsigned long)PAGE_END, (PAGE_END - PAGE_OFFSET) >> 30);
}
#endif

/*
 * Where three things landed: a function of this module (its .text, in the
 * module region), a vmalloc() buffer and a kmalloc() one (the direct map).
 */
static int show_placement(void)
{
	void *v = vmalloc(4 * PAGE_SIZE);
	void *k = kmalloc(64, GFP_KERNEL);

	if (!v || !k) {
		vfree(v);
		kfree(k);
		return -ENOMEM;
	}
	pr_info("module text at  0x%016lx\n", (unsigned long)&show_placement);
	pr_info("vmalloc() at    0x%016lx (is_vmalloc_addr %d)\n",
		(unsigned long)v, is_vmalloc_addr(v));
	pr_info("kmalloc() at    0x%016lx (is_vmalloc_addr %d, virt_addr_valid %d)\n",
		(unsigned long)k, is_vmalloc_addr(k), virt_addr_valid(k) ? 1 : 0);
	vfree(v);
	kfree(k);
	return 0;
}

static int __init show_kernel_vas_init(void)
{
	pr_info("inserted\n");
	pr_info("PAGE_SIZE = %lu\n", PAGE_SIZE);
#ifdef CONFIG_ARM64
	show_arm64();
#endif
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
	pr_info("TASK_SIZE (insmod) = 0x%016lx\n", (unsigned long)TASK_SIZE);
	return show_placement();
}

static void __exit show_kernel_vas_exit(void)
{
	pr_info("removed\n");
}

module_init(show_kernel_vas_init);
module_exit(show_kernel_vas_exit);
