// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sparsemem_show: the kernel's physical memory model (Linux Kernel
 * Programming, chapter 7, "sparsemem_show"), written anew for lkmtest.
 * SPARSEMEM splits physical memory into sections of 2^SECTION_SIZE_BITS
 * bytes, up to 2^MAX_PHYSMEM_BITS bytes in all; with SPARSEMEM_VMEMMAP the
 * struct page array of all of it is one virtually contiguous array at
 * VMEMMAP_START, otherwise each present section has its own. The module
 * prints the model, those constants and what follows from them, and the
 * sections that hold RAM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch7 sparsemem_show: the sparse memory model's constants");
MODULE_LICENSE("Dual MIT/GPL");

#ifdef CONFIG_SPARSEMEM
/* The sections with RAM: how many, the first and the last. */
static void show_present_sections(void)
{
	unsigned long nr, first = 0, last = 0, count = 0;

	for (nr = 0; nr < NR_MEM_SECTIONS; nr++) {
		struct mem_section *ms = __nr_to_section(nr);

		if (!ms) {
			/* A root (a page of sections) never allocated: skip it. */
			nr = round_up(nr + 1, SECTIONS_PER_ROOT) - 1;
			continue;
		}
		if (!present_section(ms))
			continue;
		if (!count++)
			first = nr;
		last = nr;
	}
	pr_info("present sections: %lu (#%lu to #%lu), %lu MB\n", count, first, last,
		count << (SECTION_SIZE_BITS - 20));
}

static void show_sparsemem(void)
{
	pr_info("SECTION_SIZE_BITS = %d: a section is 2^%d bytes = %lu MB\n",
		SECTION_SIZE_BITS, SECTION_SIZE_BITS, 1UL << (SECTION_SIZE_BITS - 20));
	pr_info("MAX_PHYSMEM_BITS = %d: %lu GB = %lu TB of physical address space\n",
		MAX_PHYSMEM_BITS, 1UL << (MAX_PHYSMEM_BITS - 30), 1UL << (MAX_PHYSMEM_BITS - 40));
	pr_info("NR_MEM_SECTIONS = %lu (2^%d)\n", NR_MEM_SECTIONS, SECTIONS_SHIFT);
	pr_info("PAGES_PER_SECTION = %lu (PAGE_SIZE %lu)\n", PAGES_PER_SECTION, PAGE_SIZE);
	pr_info("sizeof(struct page) = %zu, sizeof(struct mem_section) = %zu\n",
		sizeof(struct page), sizeof(struct mem_section));
	show_present_sections();
}
#endif

static int __init sparsemem_show_init(void)
{
	pr_info("inserted\n");
#if defined(CONFIG_SPARSEMEM_VMEMMAP)
	pr_info("memory model: SPARSEMEM with VMEMMAP\n");
	pr_info("VMEMMAP_START = 0x%016lx\n", (unsigned long)VMEMMAP_START);
#elif defined(CONFIG_SPARSEMEM)
	pr_info("memory model: SPARSEMEM\n");
	pr_info("SPARSEMEM_VMEMMAP not supported: a struct page array per section\n");
#else
	pr_info("memory model: FLATMEM\n");
#endif
#ifdef CONFIG_SPARSEMEM
	show_sparsemem();
#endif
	return 0;
}

static void __exit sparsemem_show_exit(void)
{
	pr_info("removed\n");
}

module_init(sparsemem_show_init);
module_exit(sparsemem_show_exit);
