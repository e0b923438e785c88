// SPDX-License-Identifier: MIT
/*
 * thrcount: compares a module's count of the system's threads with /proc.
 *
 *   thrcount PARAMFILE
 *
 * Counts the threads in /proc (every /proc/PID/task/TID), reads PARAMFILE
 * (a module parameter whose read walks the task list and returns the
 * count), and counts /proc again. When the two /proc counts agree nothing
 * was created or reaped meanwhile (this process, single-threaded, is in
 * both counts and in the module's), and it prints
 * "proc: N module: M"; otherwise it tries again, up to 20 times, and then
 * prints "unstable". The kernel's idle tasks (PID 0) are in neither.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int count_threads(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	int n = 0;

	if (!proc)
		return -1;
	while ((p = readdir(proc))) {
		char path[64];
		struct dirent *t;
		DIR *task;

		if (!numeric(p->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		task = opendir(path);
		if (!task)
			continue;	/* reaped meanwhile */
		while ((t = readdir(task)))
			n += numeric(t->d_name);
		closedir(task);
	}
	closedir(proc);
	return n;
}

static int read_param(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

int main(int argc, char **argv)
{
	int try;

	if (argc != 2) {
		fprintf(stderr, "usage: thrcount PARAMFILE\n");
		return 2;
	}
	for (try = 0; try < 20; try++) {
		int before = count_threads();
		int module = read_param(argv[1]);
		int after = count_threads();

		if (before < 0 || module < 0 || after < 0) {
			perror(argv[1]);
			return 1;
		}
		if (before == after) {
			printf("proc: %d module: %d\n", before, module);
			return 0;
		}
	}
	printf("unstable\n");
	return 1;
}
