/* klib.h: a small library linked into several modules. */
#ifndef KLIB_H
#define KLIB_H
int klib_sum(int a, int b);
#endif
