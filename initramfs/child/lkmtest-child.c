// SPDX-License-Identifier: MIT
/*
 * lkmtest-child: the guest agent's module helper. The agent runs it as
 * /lkmtest/bin/insmod or /lkmtest/bin/rmmod (symlinks), so the kernel sees
 * the task as "insmod" or "rmmod", and an oops in a module's init or exit
 * kills this process instead of the agent (PID 1).
 *
 *   insmod PATH PARAMS   finit_module (init_module if unsupported)
 *   rmmod NAME           delete_module(NAME, O_NONBLOCK)
 *
 * Exit status: 0 on success; 1 on a failed system call, after printing the
 * errno name (ENOENT, EEXIST...) on stdout; 2 on misuse, or when its parent
 * is not PID 1 of an lkmtest initramfs (it never loads modules on a host). It is a static C
 * program because a Go binary's start-up costs tens of milliseconds per step
 * under TCG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(void)
{
	const char *name = strerrorname_np(errno);

	printf("%s\n", name ? name : "EIO");
	return 1;
}

static int insmod(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail();
	if (syscall(SYS_finit_module, fd, params, 0) == 0)
		return 0;
	if (errno == ENOSYS) {
		struct stat st;
		char *image;

		if (fstat(fd, &st) < 0)
			return fail();
		image = malloc(st.st_size ? st.st_size : 1);
		if (!image)
			return fail();
		for (off_t done = 0; done < st.st_size;) {
			ssize_t n = pread(fd, image + done, st.st_size - done, done);

			if (n <= 0) {
				errno = n < 0 ? errno : EIO;
				return fail();
			}
			done += n;
		}
		if (syscall(SYS_init_module, image, (unsigned long)st.st_size, params) == 0)
			return 0;
	}
	return fail();
}

int main(int argc, char **argv)
{
	const char *op = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/* Only the agent of an lkmtest VM may use this: never the host. */
	if (getppid() != 1 || access("/etc/lkmtest-initramfs", F_OK) != 0) {
		fprintf(stderr, "lkmtest-child: refusing: not started by the agent (PID 1) of an lkmtest initramfs\n");
		return 2;
	}

	if (strcmp(op, "insmod") == 0 && argc == 3)
		return insmod(argv[1], argv[2]);
	if (strcmp(op, "rmmod") == 0 && argc == 2)
		return syscall(SYS_delete_module, argv[1], O_NONBLOCK) == 0 ? 0 : fail();
	fprintf(stderr, "lkmtest-child: usage: insmod PATH PARAMS | rmmod NAME (called as %s)\n", op);
	return 2;
}
