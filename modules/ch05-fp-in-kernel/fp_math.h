/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fp_math.c's functions: they use the FPU, so call them only between
 * kernel_fpu_begin() and kernel_fpu_end() (kernel_neon_begin/end on arm64).
 * No double crosses this interface: the code that includes it is built
 * with the FPU off.
 */
#ifndef FP_MATH_H
#define FP_MATH_H

#include <linux/types.h>

/* (long)((double)num / den * scale) */
long fp_div_scaled(int num, int den, long scale);
/* The IEEE 754 bits of a/10.0 + b/10.0, and of c/10.0. */
u64 fp_tenths_sum_bits(int a, int b);
u64 fp_tenths_bits(int c);
/* (long)(sqrt(x) * scale), by Newton's method. */
long fp_sqrt_scaled(int x, long scale);
/* The book's printk of a double with %.4f: printk has no %f. */
void fp_printk_f(int num, int den);

#endif
