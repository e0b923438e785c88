// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * process_vas: a process's user virtual address space as its mm_struct
 * describes it (Linux Kernel Programming, chapters 6-7: the process VAS).
 *
 * Loaded with pid=N, it takes a reference on that task (get_pid_task()) and
 * on its mm (get_task_mm(): NULL for a kernel thread), reads under the mmap
 * lock the bounds the kernel keeps (code, data, brk, the initial stack, the
 * base of the mmap area, the size of the user VAS, the VMA count), drops
 * both references (mmput(), put_task_struct()) and prints them. A missing
 * pid is EINVAL, an unknown one ESRCH, a kernel thread's EINVAL.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/version.h>
#include <asm/pgtable.h>
#include <asm/processor.h>

MODULE_AUTHOR("lkmtest authors");
MODULE_DESCRIPTION("a process's virtual address space, from its mm_struct");
MODULE_LICENSE("Dual MIT/GPL");

static int target_pid;
module_param_named(pid, target_pid, int, 0444);
MODULE_PARM_DESC(pid, "the process whose address space to show (required)");

/* What is read under the mmap lock, printed after it is dropped. */
struct vas {
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long start_brk, brk, start_stack, mmap_base, task_size;
	int map_count;
};

static void vas_read(struct mm_struct *mm, struct vas *v)
{
	/* mmap_sem became mmap_lock, with its own API, in 5.8. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 8, 0)
	mmap_read_lock(mm);
#else
	down_read(&mm->mmap_sem);
#endif
	v->start_code = mm->start_code;
	v->end_code = mm->end_code;
	v->start_data = mm->start_data;
	v->end_data = mm->end_data;
	v->start_brk = mm->start_brk;
	v->brk = mm->brk;
	v->start_stack = mm->start_stack;
	v->mmap_base = mm->mmap_base;
	v->task_size = mm->task_size;
	v->map_count = mm->map_count;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 8, 0)
	mmap_read_unlock(mm);
#else
	up_read(&mm->mmap_sem);
#endif
}

/* The arch's TASK_SIZE for the task, and what fixes it. */
static void show_task_size(struct task_struct *t)
{
#if defined(CONFIG_X86_64)
	pr_info("TASK_SIZE_OF(task) 0x%016lx [x86_64, %d-level paging]\n",
		(unsigned long)TASK_SIZE_OF(t), pgtable_l5_enabled() ? 5 : 4);
#elif defined(CONFIG_ARM64)
	pr_info("TASK_SIZE_OF(task) 0x%016lx [arm64, %llu-bit VA]\n",
		(unsigned long)TASK_SIZE_OF(t), (unsigned long long)vabits_actual);
#else
	pr_info("TASK_SIZE_OF(task) 0x%016lx\n", (unsigned long)TASK_SIZE_OF(t));
#endif
}

static int __init process_vas_init(void)
{
	struct task_struct *t;
	struct mm_struct *mm;
	struct pid *pid;
	char comm[TASK_COMM_LEN];
	struct vas v;

	if (target_pid <= 0) {
		pr_err("pid=N is required\n");
		return -EINVAL;
	}
	pid = find_get_pid(target_pid);
	t = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!t) {
		pr_err("no process %d\n", target_pid);
		return -ESRCH;
	}
	get_task_comm(comm, t);
	mm = get_task_mm(t);
	if (!mm) {
		pr_err("pid %d (%s) has no user address space\n", target_pid, comm);
		put_task_struct(t);
		return -EINVAL;
	}
	vas_read(mm, &v);
	mmput(mm);

	pr_info("pid %d (%s)\n", target_pid, comm);
	pr_info("start_code  0x%016lx end_code 0x%016lx\n", v.start_code, v.end_code);
	pr_info("start_data  0x%016lx end_data 0x%016lx\n", v.start_data, v.end_data);
	pr_info("start_brk   0x%016lx brk      0x%016lx\n", v.start_brk, v.brk);
	pr_info("start_stack 0x%016lx\n", v.start_stack);
	pr_info("mmap_base   0x%016lx\n", v.mmap_base);
	pr_info("task_size   0x%016lx\n", v.task_size);
	pr_info("map_count   %d\n", v.map_count);
	show_task_size(t);
	put_task_struct(t);
	return 0;
}

static void __exit process_vas_exit(void)
{
	pr_info("removed\n");
}

module_init(process_vas_init);
module_exit(process_vas_exit);
