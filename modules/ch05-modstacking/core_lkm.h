/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* core_lkm.h: what core_lkm exports to user_lkm. */
#ifndef CORE_LKM_H
#define CORE_LKM_H

#define THE_ONE 0xfedface

long get_skey(int p);
extern int exp_int;

#endif
