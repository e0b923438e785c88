// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * miscdrv_spinlock: a misc character device whose secret is guarded by a
 * spinlock (Linux Kernel Programming, chapter 12, "miscdrv_rdwr_spinlock").
 *
 * Three locks, each for what it may guard:
 *  - lock1 (a spinlock) guards the open counters ga and gb: open() does
 *    ga++, gb--, release() the reverse;
 *  - ctx.spinlock guards the secret and the tx/rx counters, in short
 *    sections that never sleep;
 *  - ctx.mutex serializes the parts of read() and write() that may sleep
 *    (copy_to_user(), copy_from_user(), a GFP_KERNEL allocation), so that
 *    each operation's snapshot and its counters stay together.
 * read() copies the secret out of ctx under the spinlock into a buffer of
 * its own and copies that to user space after unlocking: copy_to_user()
 * may fault and sleep, which a spinlock holder must never do.
 *
 * buggy=1 makes read() do exactly that: copy_to_user() straight from the
 * secret while holding ctx.spinlock. Nothing sleeps when the user buffer
 * is resident, but the kernel cannot know that beforehand: with
 * CONFIG_DEBUG_ATOMIC_SLEEP, might_fault() reports "BUG: sleeping function
 * called from invalid context" at every such call (at most once a second).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a misc device whose secret is guarded by a spinlock");
MODULE_LICENSE("Dual MIT/GPL");

static int buggy;
module_param(buggy, int, 0600);
MODULE_PARM_DESC(buggy, "1: read() calls copy_to_user() under the spinlock (a bug, on purpose)");

#define MAXBYTES 128

static int ga, gb = 1;
static DEFINE_SPINLOCK(lock1);	/* guards ga, gb */

static struct {
	char oursecret[MAXBYTES];
	int tx, rx;
	spinlock_t spinlock;	/* guards oursecret, tx, rx */
	struct mutex mutex;	/* serializes the sleeping parts of read/write */
} ctx;

static struct miscdevice sdrv_dev;

static void display_stats(void)
{
	int tx, rx;

	spin_lock(&ctx.spinlock);
	tx = ctx.tx;
	rx = ctx.rx;
	spin_unlock(&ctx.spinlock);
	dev_info(sdrv_dev.this_device, "stats: tx=%d, rx=%d\n", tx, rx);
}

static int sdrv_open(struct inode *inode, struct file *filp)
{
	int a, b;

	spin_lock(&lock1);
	a = ++ga;
	b = --gb;
	spin_unlock(&lock1);
	dev_info(sdrv_dev.this_device, "open: ga = %d, gb = %d\n", a, b);
	display_stats();
	return 0;
}

static int sdrv_release(struct inode *inode, struct file *filp)
{
	int a, b;

	spin_lock(&lock1);
	a = --ga;
	b = ++gb;
	spin_unlock(&lock1);
	dev_info(sdrv_dev.this_device, "close: ga = %d, gb = %d\n", a, b);
	display_stats();
	return 0;
}

static ssize_t sdrv_read(struct file *filp, char __user *ubuf, size_t count, loff_t *off)
{
	char kbuf[MAXBYTES];
	size_t len;
	int tx, rx;

	dev_info(sdrv_dev.this_device, "%s wants to read (upto) %zu bytes\n", current->comm, count);
	if (count < MAXBYTES) {
		dev_warn(sdrv_dev.this_device, "request # of bytes (%zu) is < required size (%d), aborting read\n",
			 count, MAXBYTES);
		display_stats();
		return -EINVAL;
	}

	mutex_lock(&ctx.mutex);
	spin_lock(&ctx.spinlock);
	len = strnlen(ctx.oursecret, MAXBYTES);
	if (buggy) {
		/* The bug: copy_to_user() may sleep, and we hold a spinlock. */
		if (copy_to_user(ubuf, ctx.oursecret, len)) {
			spin_unlock(&ctx.spinlock);
			mutex_unlock(&ctx.mutex);
			return -EFAULT;
		}
	} else {
		memcpy(kbuf, ctx.oursecret, len);
	}
	ctx.tx += len;
	tx = ctx.tx;
	rx = ctx.rx;
	spin_unlock(&ctx.spinlock);

	/* Right: the copy that may sleep runs under the mutex only. */
	if (!buggy && copy_to_user(ubuf, kbuf, len)) {
		spin_lock(&ctx.spinlock);
		ctx.tx -= len;
		spin_unlock(&ctx.spinlock);
		mutex_unlock(&ctx.mutex);
		return -EFAULT;
	}
	mutex_unlock(&ctx.mutex);
	dev_info(sdrv_dev.this_device, " %zu bytes read, returning... (stats: tx=%d, rx=%d)\n", len, tx, rx);
	return len;
}

static ssize_t sdrv_write(struct file *filp, const char __user *ubuf, size_t count, loff_t *off)
{
	size_t n = min_t(size_t, count, MAXBYTES);
	char *kbuf;
	int tx, rx;

	dev_info(sdrv_dev.this_device, "%s wants to write %zu bytes\n", current->comm, count);
	if (!count)
		return 0;

	mutex_lock(&ctx.mutex);
	/* Allocating with GFP_KERNEL and copying from user space may sleep. */
	kbuf = kzalloc(n, GFP_KERNEL);
	if (!kbuf) {
		mutex_unlock(&ctx.mutex);
		return -ENOMEM;
	}
	if (copy_from_user(kbuf, ubuf, n)) {
		kfree(kbuf);
		mutex_unlock(&ctx.mutex);
		return -EFAULT;
	}
	spin_lock(&ctx.spinlock);
	strscpy(ctx.oursecret, kbuf, n);
	ctx.rx += count;
	tx = ctx.tx;
	rx = ctx.rx;
	spin_unlock(&ctx.spinlock);
	mutex_unlock(&ctx.mutex);
	kfree(kbuf);
	dev_info(sdrv_dev.this_device, " %zu bytes written, returning... (stats: tx=%d, rx=%d)\n", count, tx, rx);
	return count;
}

static const struct file_operations sdrv_fops = {
	.owner = THIS_MODULE,
	.open = sdrv_open,
	.release = sdrv_release,
	.read = sdrv_read,
	.write = sdrv_write,
	.llseek = noop_llseek,
};

static struct miscdevice sdrv_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "miscdrv_spinlock",
	.mode = 0666,
	.fops = &sdrv_fops,
};

static int __init miscdrv_spinlock_init(void)
{
	int ret;

	spin_lock_init(&ctx.spinlock);
	mutex_init(&ctx.mutex);
	strscpy(ctx.oursecret, "initmsg", MAXBYTES);
	ret = misc_register(&sdrv_dev);
	if (ret)
		return ret;
	pr_info("misc driver (major # 10) registered, minor# = %d, dev node is /dev/%s (buggy=%d)\n",
		sdrv_dev.minor, sdrv_dev.name, buggy);
	return 0;
}

static void __exit miscdrv_spinlock_exit(void)
{
	misc_deregister(&sdrv_dev);
	mutex_destroy(&ctx.mutex);
	pr_info("misc driver %s deregistered, bye (ga = %d, gb = %d)\n", sdrv_dev.name, ga, gb);
}

module_init(miscdrv_spinlock_init);
module_exit(miscdrv_spinlock_exit);
