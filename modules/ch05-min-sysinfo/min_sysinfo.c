// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * min_sysinfo: minimal platform facts from the kernel's own macros (Linux
 * Kernel Programming, chapter 5, "min_sysinfo"), written anew for lkmtest:
 * the CPU family (CONFIG_X86_64, CONFIG_ARM64...), the byte order
 * (__BIG_ENDIAN / __LITTLE_ENDIAN, checked at run time too), the word size
 * (BITS_PER_LONG), the sizes of the C types, and the ranges of the
 * kernel's fixed-width integer types (U8_MAX ... S64_MIN, PHYS_ADDR_MAX).
 */
#define pr_fmt(fmt) "%s:%s(): " fmt, KBUILD_MODNAME, __func__

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/types.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch5 min_sysinfo: CPU, byte order, word size, type sizes and ranges");
MODULE_LICENSE("Dual MIT/GPL");

static const char *cpu_family(void)
{
#if defined(CONFIG_X86_64)
	return "x86_64";
#elif defined(CONFIG_X86_32)
	return "x86_32";
#elif defined(CONFIG_ARM64)
	return "AArch64 (ARM-64)";
#elif defined(CONFIG_ARM)
	return "AArch32 (ARM-32)";
#elif defined(CONFIG_RISCV)
	return "RISC-V";
#elif defined(CONFIG_PPC)
	return "PowerPC";
#elif defined(CONFIG_S390)
	return "IBM S390";
#else
	return "unknown";
#endif
}

/* The byte order the headers claim, and the one the CPU shows. */
static void show_platform(void)
{
	static const union {
		u32 word;
		u8 bytes[4];
	} probe = { .word = 0x01020304 };
#ifdef __BIG_ENDIAN
	const char *order = "big-endian";
#else
	const char *order = "little-endian";
#endif

	pr_info("minimal platform info:\n");
	pr_info("CPU: %s, %s; %d-bit OS.\n", cpu_family(), order, BITS_PER_LONG);
	pr_info("first byte in memory of 0x01020304: 0x%02x\n", probe.bytes[0]);
}

static void show_sizeof(void)
{
	pr_info("sizeof: (bytes)\n");
	pr_info("  char = %2zu   short int = %2zu              int = %2zu\n",
		sizeof(char), sizeof(short), sizeof(int));
	pr_info("  long = %2zu   long long = %2zu           void * = %2zu\n",
		sizeof(long), sizeof(long long), sizeof(void *));
	pr_info(" float = %2zu      double = %2zu      long double = %2zu\n",
		sizeof(float), sizeof(double), sizeof(long double));
}

/* Each range as decimal and as the type's bit pattern in hex. */
static void show_ranges(void)
{
	pr_info("integer ranges: name = decimal = hex\n");
	pr_info(" U8_MAX = %20u = 0x%016x\n", U8_MAX, U8_MAX);
	pr_info(" S8_MAX = %20d = 0x%016x\n", S8_MAX, S8_MAX);
	pr_info(" S8_MIN = %20d = 0x%016x\n", S8_MIN, (u8)S8_MIN);
	pr_info("U16_MAX = %20u = 0x%016x\n", U16_MAX, U16_MAX);
	pr_info("S16_MAX = %20d = 0x%016x\n", S16_MAX, S16_MAX);
	pr_info("S16_MIN = %20d = 0x%016x\n", S16_MIN, (u16)S16_MIN);
	pr_info("U32_MAX = %20u = 0x%016x\n", U32_MAX, U32_MAX);
	pr_info("S32_MAX = %20d = 0x%016x\n", S32_MAX, S32_MAX);
	pr_info("S32_MIN = %20d = 0x%016x\n", S32_MIN, (u32)S32_MIN);
	pr_info("U64_MAX = %20llu = 0x%016llx\n", U64_MAX, U64_MAX);
	pr_info("S64_MAX = %20lld = 0x%016llx\n", S64_MAX, S64_MAX);
	pr_info("S64_MIN = %20lld = 0x%016llx\n", S64_MIN, (u64)S64_MIN);
	pr_info("PHYS_ADDR_MAX = %llu = 0x%llx (phys_addr_t: %zu bytes)\n",
		(unsigned long long)PHYS_ADDR_MAX, (unsigned long long)PHYS_ADDR_MAX,
		sizeof(phys_addr_t));
}

static int __init min_sysinfo_init(void)
{
	pr_info("inserted\n");
	show_platform();
	show_sizeof();
	show_ranges();
	return 0;
}

static void __exit min_sysinfo_exit(void)
{
	pr_info("removed\n");
}

module_init(min_sysinfo_init);
module_exit(min_sysinfo_exit);
