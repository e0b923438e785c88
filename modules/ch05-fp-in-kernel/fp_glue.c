// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fp_in_kernel: floating point in a kernel module (Linux Kernel
 * Programming, chapter 5, "fp_in_lkm"), written anew for lkmtest.
 *
 * Kernel code is built with the FPU off (x86: -mno-sse -mno-80387, arm64:
 * -mgeneral-regs-only): a plain "double" in it does not build. The right
 * way is a separate FP compilation unit (fp_math.c) called only between
 * kernel_fpu_begin() and kernel_fpu_end() (kernel_neon_begin/end on
 * arm64), which save the user task's FP registers first and have them
 * restored before it returns to user space. This module
 *  - at load, computes num/den, 0.1+0.2 against 0.3 and sqrt(2) that way,
 *    printing integers (the results scaled, and IEEE 754 bit patterns);
 *  - with book_printk=1, also does what the book's example does: printk a
 *    double with "%.4f". printk has no %f: vsnprintf() warns once
 *    ("Please remove unsupported %f in format string") and stops there;
 *  - computes val/7 on each write to the parameter "divide", with
 *    kernel_fpu_begin/end when guard=1, without them when guard=0: then
 *    the writer's own FP registers are overwritten in the middle of its
 *    write() system call (the fpregs helper shows it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#ifdef CONFIG_X86
#include <asm/fpu/api.h>
#define fp_begin() kernel_fpu_begin()
#define fp_end() kernel_fpu_end()
#elif defined(CONFIG_ARM64)
#include <asm/neon.h>
#define fp_begin() kernel_neon_begin()
#define fp_end() kernel_neon_end()
#else
#error "fp_in_kernel: x86 and arm64 only"
#endif
#include "fp_math.h"

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch5 fp_in_lkm: FP in a module, the right way and what goes wrong");
MODULE_LICENSE("Dual MIT/GPL");

static int num = 22;
module_param(num, int, 0444);
MODULE_PARM_DESC(num, "numerator of the division at load (default 22)");
static int den = 7;
module_param(den, int, 0444);
MODULE_PARM_DESC(den, "denominator of the division at load (default 7)");
static bool book_printk;
module_param(book_printk, bool, 0444);
MODULE_PARM_DESC(book_printk, "1: also printk a double with %.4f, as the book does");
static bool guard = true;
module_param(guard, bool, 0644);
MODULE_PARM_DESC(guard, "0: compute on writes to 'divide' without kernel_fpu_begin/end");

static long last_quotient;

/* A write of an integer to /sys/module/fp_in_kernel/parameters/divide. */
static int divide_set(const char *val, const struct kernel_param *kp)
{
	int n, ret = kstrtoint(val, 0, &n);

	if (ret)
		return ret;
	if (guard)
		fp_begin();
	last_quotient = fp_div_scaled(n, 7, 1000000);
	if (guard)
		fp_end();
	return 0;
}

static int divide_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%ld\n", last_quotient);
}

static const struct kernel_param_ops divide_ops = {
	.set = divide_set,
	.get = divide_get,
};
module_param_cb(divide, &divide_ops, NULL, 0644);
MODULE_PARM_DESC(divide, "write N: computes N/7 (read: the last result, in millionths)");

static int __init fp_in_kernel_init(void)
{
	long q, root;
	u64 sum, tenths;

	if (den == 0)
		return -EINVAL;
	fp_begin();
	q = fp_div_scaled(num, den, 1000000);
	sum = fp_tenths_sum_bits(1, 2);
	tenths = fp_tenths_bits(3);
	root = fp_sqrt_scaled(2, 1000000000);
	if (book_printk)
		fp_printk_f(num, den);
	fp_end();

	pr_info("%d/%d = %ld.%06ld (in millionths: %ld)\n", num, den,
		q / 1000000, abs(q % 1000000), q);
	pr_info("0.1 + 0.2 = 0x%016llx, 0.3 = 0x%016llx: %s\n", sum, tenths,
		sum == tenths ? "equal" : "not equal");
	pr_info("sqrt(2) = %ld.%09ld\n", root / 1000000000, root % 1000000000);
	return 0;
}

static void __exit fp_in_kernel_exit(void)
{
	pr_info("removed\n");
}

module_init(fp_in_kernel_init);
module_exit(fp_in_kernel_exit);
