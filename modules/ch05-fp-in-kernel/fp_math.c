// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fp_math: the floating-point part of fp_in_kernel, the one file built
 * with the FPU enabled (see Kbuild). Each function takes and returns
 * integers; the caller brackets every call with kernel_fpu_begin() and
 * kernel_fpu_end(). Nothing here may include <linux/fpu.h>.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/printk.h>
#include <linux/string.h>
#include "fp_math.h"

long fp_div_scaled(int num, int den, long scale)
{
	return (long)((double)num / den * scale);
}

static u64 bits_of(double d)
{
	u64 u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

u64 fp_tenths_sum_bits(int a, int b)
{
	return bits_of(a / 10.0 + b / 10.0);
}

u64 fp_tenths_bits(int c)
{
	return bits_of(c / 10.0);
}

long fp_sqrt_scaled(int x, long scale)
{
	double r = x > 1 ? x / 2.0 : 1.0;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 60; i++)
		r = (r + x / r) / 2;
	return (long)(r * scale);
}

void fp_printk_f(int num, int den)
{
	pr_info("PI = %.4f\n", (double)num / den);
}
