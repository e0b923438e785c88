// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mutex_lkm: how a task waits for a mutex (Linux Kernel Programming,
 * chapters 12 and 13). A misc device, /dev/mutex_lkm, guards one mutex:
 *
 *   write "hold <ms>"  takes the mutex with mutex_lock() and keeps it until
 *                      a "release" write comes, at most <ms> milliseconds;
 *   write "release"    makes the holder release it now;
 *   read               logs that it waits, takes the mutex the way the
 *                      lock_mode parameter says (0 mutex_lock_interruptible,
 *                      1 mutex_lock_killable, 2 mutex_lock), then returns
 *                      "got it\n".
 *
 * A reader that blocks behind a holder shows the difference: a signal
 * ends an interruptible wait (read fails with EINTR), only a fatal signal
 * ends a killable one, and nothing ends a plain mutex_lock() wait.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/string.h>
#include <linux/uaccess.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("Interruptible, killable and plain mutex waits behind a misc device");
MODULE_LICENSE("Dual MIT/GPL");

static int lock_mode;
module_param(lock_mode, int, 0444);
MODULE_PARM_DESC(lock_mode, "how read() takes the mutex: 0 interruptible (default), 1 killable, 2 plain");

static DEFINE_MUTEX(demo_mutex);
static DECLARE_COMPLETION(release_req);	/* a "release" write for the holder */

static const char *const mode_names[] = { "interruptible", "killable", "plain" };

static ssize_t mutex_lkm_read(struct file *filp, char __user *ubuf, size_t count, loff_t *off)
{
	static const char msg[] = "got it\n";
	size_t len = min(count, sizeof(msg) - 1);
	int ret = 0;

	pr_info("%s/%d: waiting for the mutex (%s)\n", current->comm, task_pid_nr(current),
		mode_names[lock_mode]);
	switch (lock_mode) {
	case 0:
		ret = mutex_lock_interruptible(&demo_mutex);
		break;
	case 1:
		ret = mutex_lock_killable(&demo_mutex);
		break;
	default:
		mutex_lock(&demo_mutex);
		break;
	}
	if (ret) {
		pr_info("%s/%d: %s wait interrupted (%d)\n", current->comm, task_pid_nr(current),
			mode_names[lock_mode], ret);
		/* Let the kernel restart read() for a handler with SA_RESTART. */
		return -ERESTARTSYS;
	}
	mutex_unlock(&demo_mutex);
	if (*off)
		return 0;
	if (copy_to_user(ubuf, msg, len))
		return -EFAULT;
	*off += len;
	return len;
}

static ssize_t mutex_lkm_write(struct file *filp, const char __user *ubuf, size_t count, loff_t *off)
{
	char buf[32];
	unsigned int ms;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (!strncmp(buf, "release", 7)) {
		complete(&release_req);
		return count;
	}
	if (sscanf(buf, "hold %u", &ms) != 1 || ms > 60000)
		return -EINVAL;

	mutex_lock(&demo_mutex);
	reinit_completion(&release_req);
	pr_info("%s/%d: holding the mutex for at most %u ms\n", current->comm, task_pid_nr(current), ms);
	wait_for_completion_timeout(&release_req, msecs_to_jiffies(ms));
	mutex_unlock(&demo_mutex);
	pr_info("%s/%d: released the mutex\n", current->comm, task_pid_nr(current));
	return count;
}

static const struct file_operations mutex_lkm_fops = {
	.owner = THIS_MODULE,
	.read = mutex_lkm_read,
	.write = mutex_lkm_write,
	.llseek = noop_llseek,
};

static struct miscdevice mutex_lkm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mutex_lkm",
	.mode = 0666,
	.fops = &mutex_lkm_fops,
};

static int __init mutex_lkm_init(void)
{
	int ret;

	if (lock_mode < 0 || lock_mode > 2) {
		pr_err("lock_mode %d is invalid (0, 1 or 2)\n", lock_mode);
		return -EINVAL;
	}
	ret = misc_register(&mutex_lkm_dev);
	if (ret)
		return ret;
	pr_info("loaded: /dev/%s, read waits with %s\n", mutex_lkm_dev.name, mode_names[lock_mode]);
	return 0;
}

static void __exit mutex_lkm_exit(void)
{
	misc_deregister(&mutex_lkm_dev);
	pr_info("unloaded\n");
}

module_init(mutex_lkm_init);
module_exit(mutex_lkm_exit);
