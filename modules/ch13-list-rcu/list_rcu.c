// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * list_rcu: a linked list read under RCU (Linux Kernel Programming,
 * chapter 13, "3_lockfree/list_demo_rcu").
 *
 * Each node holds a sequence number (the how-manyth node added, from 1), a
 * letter and its code. Readers take no lock: they walk the list with
 * list_for_each_entry_rcu() between rcu_read_lock() and rcu_read_unlock(),
 * and may not sleep there. Writers serialize among themselves with a
 * spinlock (list_lock) and change the list with list_add_tail_rcu() and
 * list_del_rcu(), which readers can run alongside; an unlinked node is
 * freed only after a grace period, when every reader that might still see
 * it has left its read-side section: synchronize_rcu() then kfree(), or
 * kfree_rcu().
 *
 * At load, with two CPUs or more, a demo: a reader kthread (CPU 0) enters
 * a read-side section and stops at node B; a writer kthread (CPU 1)
 * unlinks B meanwhile, which it may, and then waits in synchronize_rcu();
 * the reader, 100 ms later, finds B intact and its next pointer still
 * leading on into the list, while a fresh walk no longer sees B; only once
 * the reader has left does synchronize_rcu() return and the writer frees B
 * and appends D. The outcome is logged.
 *
 * The misc device /dev/list_rcu: writing "+LETTERS" appends a node per
 * letter, "-L" removes every node with letter L (freed with kfree_rcu());
 * reading returns the list, a line per node: "%4d %4d  %c" (sequence,
 * code, letter).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a list read under RCU");
MODULE_LICENSE("Dual MIT/GPL");

#define MAXNODES 100
#define HOLD_MS 100		/* the reader stays in its section this long */
#define MEET_MS 2000		/* at most this long for the other thread */

struct node {
	struct list_head list;
	struct rcu_head rcu;
	int seq, code;
	char letter;
};

static LIST_HEAD(head_node);
static DEFINE_SPINLOCK(list_lock);	/* serializes writers: list, nr_added, nr_nodes */
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
	spin_lock(&list_lock);
	if (nr_nodes >= MAXNODES) {
		spin_unlock(&list_lock);
		kfree(n);
		return -ENOSPC;
	}
	seq = n->seq = ++nr_added;
	list_add_tail_rcu(&n->list, &head_node);
	nr_nodes++;
	spin_unlock(&list_lock);
	pr_info("added node #%d '%c'\n", seq, c);
	return 0;
}

/*
 * Unlinks the nodes with letter c (every node if c is 0). Readers may
 * still see them: each is freed by kfree_rcu() after a grace period (no
 * callback of ours runs then, so the module may be gone by that time).
 */
static int delete_letter(char c)
{
	struct node *n, *tmp;
	int count = 0;

	spin_lock(&list_lock);
	list_for_each_entry_safe(n, tmp, &head_node, list) {
		if (!c || n->letter == c) {
			list_del_rcu(&n->list);
			kfree_rcu(n, rcu);
			nr_nodes--;
			count++;
		}
	}
	spin_unlock(&list_lock);
	return count;
}

/* Counts the nodes; the caller is in a read-side section. */
static int count_nodes_rcu(void)
{
	struct node *n;
	int count = 0;

	list_for_each_entry_rcu(n, &head_node, list)
		count++;
	return count;
}

/* --- the demo: a reader at B while the writer removes it --- */

static int reader_inside, writer_unlinked, reader_done;	/* READ_ONCE/WRITE_ONCE */
static int seen_before, seen_now, b_intact, inside_at_unlink, done_after_gp;
static char next_letter = '?';
static s64 waited_ms;
static DECLARE_COMPLETION(reader_at_b);

static bool spin_until(int *flag)
{
	ktime_t end = ktime_add_ms(ktime_get(), MEET_MS);

	while (!READ_ONCE(*flag)) {
		if (ktime_after(ktime_get(), end))
			return false;
		cpu_relax();
	}
	return true;
}

/* Spins for ms milliseconds of clock time (not mdelay(): see the README). */
static void spin_for_ms(int ms)
{
	ktime_t end = ktime_add_ms(ktime_get(), ms);

	while (ktime_before(ktime_get(), end))
		cpu_relax();
}

static int rd_thread(void *arg)
{
	struct node *n, *b = NULL;

	rcu_read_lock();
	WRITE_ONCE(reader_inside, 1);
	seen_before = count_nodes_rcu();
	list_for_each_entry_rcu(n, &head_node, list) {
		if (n->letter == 'B') {
			b = n;
			break;
		}
	}
	complete_all(&reader_at_b);	/* the writer and init */
	if (b) {
		if (!spin_until(&writer_unlinked))
			pr_warn("reader: the writer did not unlink B\n");
		spin_for_ms(HOLD_MS);
		b_intact = b->letter == 'B' && b->seq == 2;
		/* B's next pointer still leads on into the list. */
		n = b;
		list_for_each_entry_continue_rcu(n, &head_node, list) {
			next_letter = n->letter;
			break;
		}
		seen_now = count_nodes_rcu();
	}
	WRITE_ONCE(reader_inside, 0);
	WRITE_ONCE(reader_done, 1);
	rcu_read_unlock();
	pr_info("reader on cpu %d: saw %d node(s), then %d\n", raw_smp_processor_id(), seen_before, seen_now);
	return 0;
}

static int wr_thread(void *arg)
{
	struct node *n, *b = NULL;
	ktime_t t0;

	wait_for_completion(&reader_at_b);	/* may sleep: no lock held */
	spin_lock(&list_lock);
	list_for_each_entry(n, &head_node, list) {
		if (n->letter == 'B') {
			b = n;
			list_del_rcu(&b->list);
			nr_nodes--;
			break;
		}
	}
	spin_unlock(&list_lock);
	inside_at_unlink = READ_ONCE(reader_inside);
	WRITE_ONCE(writer_unlinked, 1);
	if (!b)
		return -ENOENT;
	t0 = ktime_get();
	synchronize_rcu();	/* sleeps until every reader that may see B left */
	waited_ms = ktime_ms_delta(ktime_get(), t0);
	done_after_gp = READ_ONCE(reader_done);
	kfree(b);
	pr_info("writer on cpu %d: unlinked and freed node #2 'B'\n", raw_smp_processor_id());
	return add2tail('D');
}

static const struct {
	int (*fn)(void *data);
	const char *name;
} demo_threads[] = {
	{ rd_thread, "lrcu_reader" },	/* on CPU 0 */
	{ wr_thread, "lrcu_writer" },	/* on CPU 1 */
};

static int run_demo(void)
{
	struct task_struct *t[2];
	int i, ret = 0;

	for (i = 0; i < 2; i++) {
		t[i] = kthread_create(demo_threads[i].fn, NULL, "%s", demo_threads[i].name);
		if (IS_ERR(t[i])) {
			ret = PTR_ERR(t[i]);
			break;
		}
		get_task_struct(t[i]);	/* kthread_stop() after it returned */
		kthread_bind(t[i], i);
	}
	if (ret) {
		while (--i >= 0) {
			kthread_stop(t[i]);
			put_task_struct(t[i]);
		}
		return ret;
	}
	wake_up_process(t[1]);	/* the writer first: it sleeps until the reader is at B */
	wake_up_process(t[0]);
	wait_for_completion(&reader_at_b);
	/* Both have started; the writer only once the reader is at B. */
	for (i = 0; i < 2; i++) {
		int r = kthread_stop(t[i]);

		put_task_struct(t[i]);
		if (r && !ret)
			ret = r;
	}
	pr_info("the writer unlinked B while %d reader(s) were inside\n", inside_at_unlink);
	pr_info("the reader found B intact after its removal: %s, and its next node: %c\n",
		b_intact ? "yes" : "no", next_letter);
	pr_info("synchronize_rcu() returned after the reader left: %s\n", done_after_gp ? "yes" : "no");
	pr_info("the writer waited %lld ms in synchronize_rcu()\n", waited_ms);
	return ret;
}

/* --- the misc device --- */

static ssize_t list_read(struct file *filp, char __user *ubuf, size_t count, loff_t *off)
{
	char *kbuf = kmalloc(PAGE_SIZE, GFP_KERNEL);	/* not in the read-side section */
	struct node *n;
	ssize_t ret;
	size_t len = 0;

	if (!kbuf)
		return -ENOMEM;
	rcu_read_lock();
	list_for_each_entry_rcu(n, &head_node, list)
		len += scnprintf(kbuf + len, PAGE_SIZE - len, "%4d %4d  %c\n", n->seq, n->code, n->letter);
	rcu_read_unlock();
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
	.name = "list_rcu",
	.mode = 0666,
	.fops = &list_fops,
};

static int __init list_rcu_init(void)
{
	int ret;

	ret = add2tail('A');
	if (!ret)
		ret = add2tail('B');
	if (!ret)
		ret = add2tail('C');
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

static void __exit list_rcu_exit(void)
{
	misc_deregister(&list_dev);
	pr_info("freed %d node(s), bye\n", delete_letter(0));
}

module_init(list_rcu_init);
module_exit(list_rcu_exit);
