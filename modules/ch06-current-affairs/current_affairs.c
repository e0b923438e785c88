// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * current_affairs: the process context a module's init and exit run in
 * (Linux Kernel Programming, chapter 6, "current_affairs"). Both print who
 * `current` is: name, PID, TGID, UID, EUID and state. Init runs in the
 * context of the task that loaded the module (insmod), exit in that of the
 * task that removed it (rmmod).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/uidgid.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("print the process context (current) of init and exit");
MODULE_LICENSE("Dual MIT/GPL");

static void show_ctx(void)
{
	unsigned int uid = from_kuid(&init_user_ns, current_uid());
	unsigned int euid = from_kuid(&init_user_ns, current_euid());

	if (!in_task()) {
		pr_warn("Whoa! running in interrupt context [Should NOT Happen here!]\n");
		return;
	}
	pr_info("we're running in process context ::\n");
	pr_info(" name        : %s\n", current->comm);
	pr_info(" PID         : %6d\n", task_pid_nr(current));
	pr_info(" TGID        : %6d\n", task_tgid_nr(current));
	pr_info(" UID         : %6u\n", uid);
	pr_info(" EUID        : %6u (%s root)\n", euid, euid == 0 ? "have" : "don't have");
	pr_info(" state       : %c\n", task_state_to_char(current));
}

static int __init current_affairs_init(void)
{
	pr_info("inserted\n");
	pr_info("sizeof(struct task_struct)=%zu\n", sizeof(struct task_struct));
	show_ctx();
	return 0;
}

static void __exit current_affairs_exit(void)
{
	show_ctx();
	pr_info("removed\n");
}

module_init(current_affairs_init);
module_exit(current_affairs_exit);
