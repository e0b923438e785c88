// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * list_demo: the kernel's doubly linked list, <linux/list.h> (Linux Kernel
 * Programming, chapter 6, "list_demo"), written anew for lkmtest. Nodes
 * embed a struct list_head; the module adds them at the tail
 * (list_add_tail) and one at the head (list_add), walks the list forwards
 * and backwards, searches it, deletes the nodes whose first value is even
 * while walking it (list_for_each_entry_safe + list_del), and at unload
 * frees the rest the same safe way.
 *
 * buggy=1 frees them as the book's freelist() does, kfree() inside a plain
 * list_for_each_entry(): the loop then reads the next pointer out of the
 * node it has just freed, a use-after-free that KASAN reports at rmmod.
 * The list is not protected against concurrent use: only init and exit
 * touch it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("LKP ch6 list_demo: the kernel's linked list API");
MODULE_LICENSE("Dual MIT/GPL");

static bool buggy;
module_param(buggy, bool, 0444);
MODULE_PARM_DESC(buggy, "1: free the nodes as the book does (a use-after-free at unload)");

struct node {
	struct list_head list;
	int ival1, ival2;
	char letter;
};

static LIST_HEAD(head_node);

static int add_node(int v1, int v2, char letter, bool at_tail)
{
	struct node *n = kzalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return -ENOMEM;
	n->ival1 = v1;
	n->ival2 = v2;
	n->letter = letter;
	if (at_tail)
		list_add_tail(&n->list, &head_node);
	else
		list_add(&n->list, &head_node);
	pr_info("added a node (with letter '%c') at the %s\n", letter, at_tail ? "tail" : "head");
	return 0;
}

static void show_list(const char *what)
{
	struct node *curr;
	int i = 0;

	pr_info("%s:\n", what);
	pr_info(" #    val1   |   val2   | letter\n");
	list_for_each_entry(curr, &head_node, list)
		pr_info("%2d %9d %9d   %c\n", i++, curr->ival1, curr->ival2, curr->letter);
}

static void show_letters_reversed(void)
{
	char letters[16];
	struct node *curr;
	int i = 0;

	list_for_each_entry_reverse(curr, &head_node, list) {
		if (i < sizeof(letters) - 1)
			letters[i++] = curr->letter;
	}
	letters[i] = '\0';
	pr_info("backwards: %s\n", letters);
}

/* Case-sensitive, O(n). */
static void find_letter(char letter)
{
	struct node *curr;
	int i = 0;

	list_for_each_entry(curr, &head_node, list) {
		if (curr->letter == letter) {
			pr_info("found '%c' at node #%d: %d %d\n", letter, i, curr->ival1, curr->ival2);
			return;
		}
		i++;
	}
	pr_info("didn't find '%c' in the list\n", letter);
}

/* Deleting while walking needs the _safe walk: it holds the next node. */
static void delete_even(void)
{
	struct node *curr, *next;
	int deleted = 0;

	list_for_each_entry_safe(curr, next, &head_node, list) {
		if (curr->ival1 % 2 == 0) {
			list_del(&curr->list);
			kfree(curr);
			deleted++;
		}
	}
	pr_info("deleted %d nodes with an even val1\n", deleted);
}

static void free_list(void)
{
	struct node *curr, *next;
	int freed = 0;

	if (buggy) {
		/* The book's freelist(): the loop's step reads curr->list.next after kfree(curr). */
		list_for_each_entry(curr, &head_node, list) {
			kfree(curr);
			freed++;
		}
	} else {
		list_for_each_entry_safe(curr, next, &head_node, list) {
			list_del(&curr->list);
			kfree(curr);
			freed++;
		}
	}
	INIT_LIST_HEAD(&head_node);
	pr_info("freed %d nodes\n", freed);
}

static int __init list_demo_init(void)
{
	static const struct {
		int v1, v2;
		char letter;
	} tail[] = { { 1, 2, 'l' }, { 5, 1000, 'k' }, { 3, 1415, 'p' }, { 8, 300, '2' }, { 9, 42, 'E' } };
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(tail); i++) {
		ret = add_node(tail[i].v1, tail[i].v2, tail[i].letter, true);
		if (ret)
			goto fail;
	}
	ret = add_node(4, 4, 'h', false);
	if (ret)
		goto fail;
	show_list("the list");
	show_letters_reversed();
	find_letter('p');
	find_letter('e');
	delete_even();
	show_list("after deleting");
	return 0;
fail:
	buggy = false;
	free_list();
	return ret;
}

static void __exit list_demo_exit(void)
{
	free_list();
	pr_info("removed\n");
}

module_init(list_demo_init);
module_exit(list_demo_exit);
