// SPDX-License-Identifier: MIT
/*
 * affinity_try: CPU affinity from user space with sched_setaffinity()
 * (Linux Kernel Programming, chapter 11, in the spirit of the book's
 * userspc_cpuaffinity).
 *
 *   affinity_try hop [-n FILE] CPU...   pin to each CPU in turn; on each,
 *        sample sched_getcpu() 500 times (yielding and sleeping between
 *        samples, so the scheduler has every chance to move it) and report
 *        how many were on that CPU; -n FILE writes the PID to FILE (the
 *        affinity_lkm module's pid parameter) so that the kernel reports
 *        task_cpu() too
 *   affinity_try spin CPU MS NTASKS     NTASKS processes pin themselves to
 *        CPU, say so in the kernel log (/dev/kmsg), then all at once spin MS
 *        ms of wall time sampling sched_getcpu(); the parent reports each
 *        one's samples and the CPU time it got
 *   affinity_try set PID MASK           sched_setaffinity(PID, MASK (hex)):
 *        "ok", or the errno's name and exit status 1
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pin(pid_t pid, unsigned long mask)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = 0; cpu < (int)(8 * sizeof(mask)); cpu++)
		if (mask & (1UL << cpu))
			CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

/* The allowed CPUs of this process as a list ("1", "0-1"). */
static void mask_list(char *buf, size_t len)
{
	cpu_set_t set;
	size_t off = 0;
	int cpu;

	buf[0] = '\0';
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && off + 8 < len; cpu++)
		if (CPU_ISSET(cpu, &set))
			off += snprintf(buf + off, len - off, "%s%d", off ? "," : "", cpu);
}

static int hop(int argc, char **argv)
{
	const char *notify = NULL;
	int i = 0;

	if (argc > 2 && !strcmp(argv[0], "-n")) {
		notify = argv[1];
		i = 2;
	}
	if (i >= argc)
		return 2;
	for (; i < argc; i++) {
		int cpu = atoi(argv[i]), on = 0, n;
		char mask[64];

		if (pin(0, 1UL << cpu) < 0) {
			printf("affinity_try: sched_setaffinity(cpu %d): %s\n", cpu, strerrorname_np(errno));
			return 1;
		}
		for (n = 0; n < 500; n++) {
			if (sched_getcpu() == cpu)
				on++;
			if (n % 50 == 49)
				usleep(500);
			else
				sched_yield();
		}
		mask_list(mask, sizeof(mask));
		printf("affinity_try: pid %d: pinned to cpu %d: mask %s, %d of %d samples on cpu %d\n", getpid(), cpu, mask,
		       on, n, cpu);
		fflush(stdout);
		if (notify) {
			FILE *f = fopen(notify, "w");

			if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
				printf("affinity_try: write %s: %s\n", notify, strerrorname_np(errno));
				return 1;
			}
		}
	}
	return 0;
}

/* What each spinning task saw, in memory shared with the parent. */
struct spun {
	long samples, on;
	long long cpu, wall;
};

static void spin_one(int cpu, long ms, int ready, int go, struct spun *r)
{
	long long wall0, cpu0, wall;
	FILE *kmsg;
	char c;

	if (pin(0, 1UL << cpu) < 0) {
		printf("affinity_try: sched_setaffinity(cpu %d): %s\n", cpu, strerrorname_np(errno));
		fflush(stdout);
		_exit(1);
	}
	kmsg = fopen("/dev/kmsg", "w");
	if (kmsg) {
		fprintf(kmsg, "affinity_try: pid %d spinning on cpu %d for %ld ms\n", getpid(), cpu, ms);
		fclose(kmsg);
	}
	/* Tell the parent we are ready, and start when it closes "go". */
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(1);
	wall0 = now_ns(CLOCK_MONOTONIC);
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	do {
		r->samples++;
		if (sched_getcpu() == cpu)
			r->on++;
		wall = now_ns(CLOCK_MONOTONIC) - wall0;
	} while (wall < ms * 1000000LL);
	r->cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	r->wall = wall;
	_exit(0);
}

static int spin(int cpu, long ms, int ntasks)
{
	int ready[2], go[2], i, status, failed = 0;
	struct spun *r;
	char c;

	if (ntasks < 1 || ntasks > 8)
		return 2;
	r = mmap(NULL, ntasks * sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED || pipe(ready) < 0 || pipe(go) < 0) {
		perror("affinity_try");
		return 1;
	}
	fflush(stdout);
	for (i = 0; i < ntasks; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("affinity_try: fork");
			return 1;
		}
		if (pid == 0) {
			close(go[1]);
			spin_one(cpu, ms, ready[1], go[0], &r[i]);
		}
	}
	close(go[0]);
	for (i = 0; i < ntasks; i++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	close(go[1]);	/* all of them start now */
	for (i = 0; i < ntasks; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	if (failed)
		return 1;
	for (i = 0; i < ntasks; i++)
		printf("affinity_try: task %d spun on cpu %d: %ld of %ld samples on cpu %d, cpu time %lld ms of %lld ms\n",
		       i, cpu, r[i].on, r[i].samples, cpu, r[i].cpu / 1000000, r[i].wall / 1000000);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "hop"))
		return hop(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "spin"))
		return spin(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "set")) {
		if (pin(atoi(argv[2]), strtoul(argv[3], NULL, 16)) < 0) {
			printf("affinity_try: sched_setaffinity(%s, 0x%s): %s\n", argv[2], argv[3], strerrorname_np(errno));
			return 1;
		}
		printf("affinity_try: sched_setaffinity(%s, 0x%s): ok\n", argv[2], argv[3]);
		return 0;
	}
	fprintf(stderr, "usage: affinity_try hop [-n FILE] CPU... | spin CPU MS NTASKS | set PID HEXMASK\n");
	return 2;
}
