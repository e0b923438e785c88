// SPDX-License-Identifier: MIT
/*
 * cpu_hog: a CPU-bound loop that measures the CPU time it gets (Linux
 * Kernel Programming, chapter 11: constraining CPU with cgroups v2, in the
 * spirit of the book's primegen run under cpu.max).
 *
 *   cpu_hog [-c CGROUP] MS
 *
 * -c CGROUP moves the process into the cgroup directory CGROUP first (its
 * PID written to CGROUP/cgroup.procs). It then spins for MS ms of wall
 * time (CLOCK_MONOTONIC) and prints the CPU time it was given
 * (CLOCK_PROCESS_CPUTIME_ID) and that as a share of the wall time, in
 * percent of one CPU. In a cgroup it also reads the cgroup's usage_usec
 * (cpu.stat) before and after the loop and prints the difference in ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* usage_usec of CGROUP/cpu.stat, or -1. */
static long long usage_us(const char *cgroup)
{
	char path[512];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.stat", cgroup);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "usage_usec %lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	const char *cgroup = "/";
	long long wall0, cpu0, wall, cpu, usage0 = -1, usage = -1;
	long ms;

	if (argc == 4 && !strcmp(argv[1], "-c")) {
		char path[512];
		FILE *f;

		cgroup = argv[2];
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		f = fopen(path, "w");
		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
			printf("cpu_hog: write %s: %s\n", path, strerrorname_np(errno));
			return 1;
		}
		argv += 2;
		argc -= 2;
	}
	ms = argc == 2 ? atol(argv[1]) : 0;
	if (ms <= 0) {
		fprintf(stderr, "usage: cpu_hog [-c CGROUP] MS\n");
		return 2;
	}
	if (strcmp(cgroup, "/"))
		usage0 = usage_us(cgroup);
	wall0 = now_ns(CLOCK_MONOTONIC);
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	do
		wall = now_ns(CLOCK_MONOTONIC) - wall0;
	while (wall < ms * 1000000LL);
	cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (usage0 >= 0)
		usage = usage_us(cgroup);
	printf("cpu_hog: pid %d in %s: cpu %lld ms of %lld ms wall = %lld %%\n", getpid(), cgroup, cpu / 1000000,
	       wall / 1000000, cpu * 100 / wall);
	if (usage0 >= 0 && usage >= 0)
		printf("cpu_hog: cgroup usage_usec %lld at start, %lld at end: %lld ms\n", usage0, usage,
		       (usage - usage0) / 1000);
	return 0;
}
