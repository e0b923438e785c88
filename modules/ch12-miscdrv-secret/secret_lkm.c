// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * secret_lkm: a misc character device keeping a 128-byte "secret" (Linux
 * Kernel Programming, chapter 12, miscdrv_rdwr_mutexlock and
 * miscdrv_rdwr_spinlock). read() returns the secret ("initmsg" at first)
 * and refuses buffers smaller than 128 bytes; write() replaces it. The
 * secret and the tx/rx counters are guarded by a spinlock, the copy to user
 * space (which may sleep) by a mutex. With buggy=1, write() sleeps while
 * holding the spinlock — it takes the mutex there, and with buggy=2 it
 * really sleeps. A kernel with CONFIG_DEBUG_ATOMIC_SLEEP reports both: the
 * first as "BUG: sleeping function called from invalid context" (caught by
 * might_sleep() before anything sleeps), the second as "BUG: scheduling
 * while atomic" — after which the scheduler's reset of the preempt count
 * leaves it unbalanced, and the kernel may well die (arm64 6.1 panics).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>		/* kvmalloc(): in 5.4's linux/mm.h, 6.x's linux/slab.h */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a misc device with a secret, guarded by a mutex and a spinlock");
MODULE_LICENSE("Dual MIT/GPL");

static int buggy;
module_param(buggy, int, 0600);
MODULE_PARM_DESC(buggy, "1: take a mutex, 2: sleep, while holding the spinlock in write() (bugs, on purpose)");

#define MAXBYTES 128

static struct {
	char oursecret[MAXBYTES];
	int tx, rx;
	spinlock_t spinlock;	/* guards oursecret, tx, rx */
	struct mutex mutex;	/* serializes readers around copy_to_user() */
} ctx;

static struct miscdevice secret_dev;

static ssize_t secret_read(struct file *filp, char __user *ubuf, size_t count, loff_t *off)
{
	char kbuf[MAXBYTES];
	size_t len;

	dev_info(secret_dev.this_device, "%s wants to read (upto) %zu bytes\n", current->comm, count);
	if (count < MAXBYTES) {
		dev_warn(secret_dev.this_device, "request # of bytes (%zu) is < required size (%d), aborting read\n",
			 count, MAXBYTES);
		return -EINVAL;
	}
	spin_lock(&ctx.spinlock);
	len = strnlen(ctx.oursecret, MAXBYTES);
	memcpy(kbuf, ctx.oursecret, len);
	ctx.tx += len;
	spin_unlock(&ctx.spinlock);

	mutex_lock(&ctx.mutex);
	if (copy_to_user(ubuf, kbuf, len)) {
		mutex_unlock(&ctx.mutex);
		return -EFAULT;
	}
	mutex_unlock(&ctx.mutex);
	dev_info(secret_dev.this_device, " %zu bytes read, returning... (stats: tx=%d, rx=%d)\n", len, ctx.tx, ctx.rx);
	return len;
}

static ssize_t secret_write(struct file *filp, const char __user *ubuf, size_t count, loff_t *off)
{
	size_t n = min_t(size_t, count, MAXBYTES);
	char *kbuf;

	dev_info(secret_dev.this_device, "%s wants to write %zu bytes\n", current->comm, count);
	kbuf = kvmalloc(n, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	if (copy_from_user(kbuf, ubuf, n)) {
		kvfree(kbuf);
		return -EFAULT;
	}
	spin_lock(&ctx.spinlock);
	if (buggy == 1) {
		/* A mutex may sleep: taking one under a spinlock is a bug. */
		mutex_lock(&ctx.mutex);
		mutex_unlock(&ctx.mutex);
	} else if (buggy == 2) {
		/* Sleeping with a spinlock held: exactly what must never happen. */
		set_current_state(TASK_INTERRUPTIBLE);
		schedule_timeout(HZ / 10);
	}
	memset(ctx.oursecret, 0, MAXBYTES);
	memcpy(ctx.oursecret, kbuf, min_t(size_t, n, MAXBYTES - 1));
	ctx.rx += n;
	spin_unlock(&ctx.spinlock);
	kvfree(kbuf);
	dev_info(secret_dev.this_device, " %zu bytes written, returning... (stats: tx=%d, rx=%d)\n", n, ctx.tx, ctx.rx);
	return count;
}

static const struct file_operations secret_fops = {
	.owner = THIS_MODULE,
	.read = secret_read,
	.write = secret_write,
	.llseek = noop_llseek,
};

static struct miscdevice secret_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "secret_lkm",
	.mode = 0666,
	.fops = &secret_fops,
};

static int __init secret_lkm_init(void)
{
	int ret;

	spin_lock_init(&ctx.spinlock);
	mutex_init(&ctx.mutex);
	strscpy(ctx.oursecret, "initmsg", MAXBYTES);
	ret = misc_register(&secret_dev);
	if (ret)
		return ret;
	pr_info("misc driver (major # 10) registered, minor# = %d, dev node is /dev/%s\n",
		secret_dev.minor, secret_dev.name);
	return 0;
}

static void __exit secret_lkm_exit(void)
{
	misc_deregister(&secret_dev);
	pr_info("misc driver %s deregistered, bye\n", secret_dev.name);
}

module_init(secret_lkm_init);
module_exit(secret_lkm_exit);
