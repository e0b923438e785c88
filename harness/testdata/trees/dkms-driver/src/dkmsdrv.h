/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DKMSDRV_H
#define DKMSDRV_H

#define DKMSDRV_ANSWER 42

int dkmsdrv_core_answer(void);

#endif
