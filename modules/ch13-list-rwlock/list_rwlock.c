// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * list_rwlock: a linked list guarded by a reader-writer spinlock (Linux
 * Kernel Programming, chapter 13, "2_list_demo_rdwrlock").
 *
 * Each node holds a sequence number (the how-manyth node added, from 1), a
 * letter and its code. list_lock (DEFINE_RWLOCK) guards the list and the
 * sequence: readers take read_lock() and may hold it together, a writer
 * takes write_lock() and excludes readers and writers. Neither may sleep
 * while holding it, so nodes are allocated before and freed after.
 *
 * At load, with two CPUs or more, a demo: two reader kthreads (bound to
 * CPUs 0 and 1) take the read lock and meet inside it; then a writer
 * kthread (CPU 1) asks for the write lock while reader 0 still holds its
 * read lock, and spins until it is released; it adds a node 'W'. The
 * outcome is logged: how many readers were inside at once, whether the
 * writer got in while a reader held the lock, how many readers were inside
 * when it did, and how long it waited.
 *
 * The misc device /dev/list_rwlock: writing "+LETTERS" appends a node per
 * letter, "-L" removes every node with letter L; reading returns the list,
 * a line per node: "%4d %4d  %c" (sequence, code, letter).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a list guarded by a reader-writer spinlock");
MODULE_LICENSE("Dual MIT/GPL");

#define MAXNODES 100
#define HOLD_MS 100		/* reader 0 keeps the read lock this long */
#define MEET_MS 2000		/* at most this long for the other thread */

struct node {
	struct list_head list;
	int seq, code;
	char letter;
};

static LIST_HEAD(head_node);
static DEFINE_RWLOCK(list_lock);	/* guards head_node, nr_added, nr_nodes */
static int nr_added, nr_nodes;

/* Appends a node with letter c; GFP_KERNEL: called without the lock. */
static int add2tail(char c)
{
	struct node *n = kzalloc(sizeof(*n), GFP_KERNEL);
	int seq;

	if (!n)
		return -ENOMEM;
	n->letter = c;
	n->code = c;
	write_lock(&list_lock);
	if (nr_nodes >= MAXNODES) {
		write_unlock(&list_lock);
		kfree(n);
		return -ENOSPC;
	}
	seq = n->seq = ++nr_added;
	list_add_tail(&n->list, &head_node);
	nr_nodes++;
	write_unlock(&list_lock);
	pr_info("added node #%d '%c'\n", seq, c);
	return 0;
}

/* Removes the nodes with letter c (every node if c is 0); frees them after. */
static int delete_letter(char c)
{
	struct node *n, *tmp;
	LIST_HEAD(gone);
	int count = 0;

	write_lock(&list_lock);
	list_for_each_entry_safe(n, tmp, &head_node, list) {
		if (!c || n->letter == c) {
			list_move_tail(&n->list, &gone);
			nr_nodes--;
			count++;
		}
	}
	write_unlock(&list_lock);
	list_for_each_entry_safe(n, tmp, &gone, list) {
		list_del(&n->list);
		kfree(n);
	}
	return count;
}

/* Counts the nodes under the read lock, which the caller holds. */
static int count_nodes_locked(void)
{
	struct node *n;
	int count = 0;

	list_for_each_entry(n, &head_node, list)
		count++;
	return count;
}

/* --- the demo: two readers together, then a writer shut out --- */

static atomic_t arrived = ATOMIC_INIT(0);	/* readers that took the read lock */
static atomic_t inside = ATOMIC_INIT(0);	/* readers holding it now */
static int r0_met, writer_trying, writer_entered;	/* flags, READ_ONCE/WRITE_ONCE */
static int together, seen_writer_in, readers_at_write, seen_nodes[2];
static s64 waited_ms;
static DECLARE_COMPLETION(readers_met);

/* Spins (we hold a spinning lock: no sleeping) until *flag or MEET_MS. */
static bool spin_until(int *flag, atomic_t *count, int want)
{
	ktime_t end = ktime_add_ms(ktime_get(), MEET_MS);

	while (!(flag ? READ_ONCE(*flag) : atomic_read(count) >= want)) {
		if (ktime_after(ktime_get(), end))
			return false;
		cpu_relax();
	}
	return true;
}

/* Spins for ms milliseconds of clock time (mdelay() trusts a loop
 * calibration, which an emulated CPU's varying speed defeats).
 */
static void spin_for_ms(int ms)
{
	ktime_t end = ktime_add_ms(ktime_get(), ms);

	while (ktime_before(ktime_get(), end))
		cpu_relax();
}

static int rd_thread(void *arg)
{
	long n = (long)arg;

	read_lock(&list_lock);
	atomic_inc(&inside);
	atomic_inc(&arrived);
	if (!spin_until(NULL, &arrived, 2))
		pr_warn("reader %ld: the other reader did not come in\n", n);
	seen_nodes[n] = count_nodes_locked();
	if (n == 0) {
		together = atomic_read(&inside);
		WRITE_ONCE(r0_met, 1);
		complete_all(&readers_met);	/* the writer and init */
		/* Keep the read lock while the writer asks for the write lock. */
		if (!spin_until(&writer_trying, NULL, 0))
			pr_warn("reader 0: the writer did not come\n");
		spin_for_ms(HOLD_MS);
		seen_writer_in = READ_ONCE(writer_entered);
	} else if (!spin_until(&r0_met, NULL, 0)) {
		pr_warn("reader 1: reader 0 did not see us\n");
	}
	atomic_dec(&inside);
	read_unlock(&list_lock);
	pr_info("reader %ld on cpu %d: saw %d node(s)\n", n, raw_smp_processor_id(), seen_nodes[n]);
	return 0;
}

static int wr_thread(void *arg)
{
	struct node *w = kzalloc(sizeof(*w), GFP_KERNEL);
	ktime_t t0;

	if (!w)
		return -ENOMEM;
	w->letter = 'W';
	w->code = 'W';
	wait_for_completion(&readers_met);	/* may sleep: no lock held */
	WRITE_ONCE(writer_trying, 1);
	t0 = ktime_get();
	write_lock(&list_lock);
	waited_ms = ktime_ms_delta(ktime_get(), t0);
	WRITE_ONCE(writer_entered, 1);	/* stays set */
	readers_at_write = atomic_read(&inside);
	w->seq = ++nr_added;
	list_add_tail(&w->list, &head_node);
	nr_nodes++;
	write_unlock(&list_lock);
	pr_info("writer on cpu %d: added node #%d 'W'\n", raw_smp_processor_id(), w->seq);
	return 0;
}

static const struct {
	int (*fn)(void *data);
	const char *name;
	int cpu;
} demo_threads[] = {
	{ rd_thread, "lrw_reader/0", 0 },
	{ rd_thread, "lrw_reader/1", 1 },
	{ wr_thread, "lrw_writer", 1 },
};

static int run_demo(void)
{
	struct task_struct *t[3];
	int i, ret = 0;

	for (i = 0; i < 3; i++) {
		t[i] = kthread_create(demo_threads[i].fn, (void *)(long)i, "%s", demo_threads[i].name);
		if (IS_ERR(t[i])) {
			ret = PTR_ERR(t[i]);
			break;
		}
		get_task_struct(t[i]);	/* kthread_stop() after it returned */
		kthread_bind(t[i], demo_threads[i].cpu);
	}
	if (ret) {
		while (--i >= 0) {
			kthread_stop(t[i]);
			put_task_struct(t[i]);
		}
		return ret;
	}
	/* The writer first: it sleeps until the readers met. */
	for (i = 2; i >= 0; i--)
		wake_up_process(t[i]);
	wait_for_completion(&readers_met);
	for (i = 0; i < 3; i++) {
		int r;

		/* Each has started (the readers met): it runs to its end. */
		r = kthread_stop(t[i]);
		put_task_struct(t[i]);
		if (r && !ret)
			ret = r;
	}
	pr_info("readers inside the read lock together: %d\n", together);
	pr_info("the writer got in while reader 0 held the read lock: %s\n", seen_writer_in ? "yes" : "no");
	pr_info("readers inside when the writer got the lock: %d\n", readers_at_write);
	pr_info("the writer waited %lld ms for the readers\n", waited_ms);
	return ret;
}

/* --- the misc device --- */

static ssize_t list_read(struct file *filp, char __user *ubuf, size_t count, loff_t *off)
{
	char *kbuf = kmalloc(PAGE_SIZE, GFP_KERNEL);	/* not under the lock */
	struct node *n;
	ssize_t ret;
	size_t len = 0;

	if (!kbuf)
		return -ENOMEM;
	read_lock(&list_lock);
	list_for_each_entry(n, &head_node, list)
		len += scnprintf(kbuf + len, PAGE_SIZE - len, "%4d %4d  %c\n", n->seq, n->code, n->letter);
	read_unlock(&list_lock);
	ret = simple_read_from_buffer(ubuf, count, off, kbuf, len);
	kfree(kbuf);
	return ret;
}

static ssize_t list_write(struct file *filp, const char __user *ubuf, size_t count, loff_t *off)
{
	char kbuf[64];
	size_t i;
	int ret = 0;

	if (count < 2 || count >= sizeof(kbuf))
		return -EINVAL;
	if (copy_from_user(kbuf, ubuf, count))
		return -EFAULT;
	kbuf[count] = '\0';
	if (kbuf[0] == '-' && isalpha(kbuf[1])) {
		pr_info("deleted %d node(s) '%c'\n", delete_letter(kbuf[1]), kbuf[1]);
		return count;
	}
	if (kbuf[0] != '+')
		return -EINVAL;
	for (i = 1; i < count && !ret; i++)
		if (isalpha(kbuf[i]))
			ret = add2tail(kbuf[i]);
	return ret ? ret : count;
}

static const struct file_operations list_fops = {
	.owner = THIS_MODULE,
	.read = list_read,
	.write = list_write,
	.llseek = noop_llseek,
};

static struct miscdevice list_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "list_rwlock",
	.mode = 0666,
	.fops = &list_fops,
};

static int __init list_rwlock_init(void)
{
	int ret;

	ret = add2tail('A');
	if (!ret)
		ret = add2tail('B');
	if (!ret && num_online_cpus() >= 2 && cpu_online(0) && cpu_online(1))
		ret = run_demo();
	else if (!ret)
		pr_info("demo skipped: it needs CPUs 0 and 1\n");
	if (!ret)
		ret = misc_register(&list_dev);
	if (ret) {
		delete_letter(0);
		return ret;
	}
	pr_info("registered /dev/%s, %d nodes on the list\n", list_dev.name, nr_nodes);
	return 0;
}

static void __exit list_rwlock_exit(void)
{
	misc_deregister(&list_dev);
	pr_info("freed %d node(s), bye\n", delete_letter(0));
}

module_init(list_rwlock_init);
module_exit(list_rwlock_exit);
