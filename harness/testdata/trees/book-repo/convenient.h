/* convenient.h: helpers shared by every module of this repository. */
#ifndef CONVENIENT_H
#define CONVENIENT_H
#include <linux/printk.h>

#define PRINT_CTX() pr_info("ctx: %s(%d)\n", current->comm, current->pid)
#define MSG(fmt, ...) pr_info("%s(): " fmt, __func__, ##__VA_ARGS__)
#endif
