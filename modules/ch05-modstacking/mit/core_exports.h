/* SPDX-License-Identifier: MIT */
/*
 * core_exports.h: core_lkm's exports as user_lkm_mit sees them. A copy of
 * ../core_lkm.h, because this directory is built on its own.
 */
#ifndef CORE_EXPORTS_H
#define CORE_EXPORTS_H

#define THE_ONE 0xfedface

long get_skey(int p);
extern int exp_int;

#endif
