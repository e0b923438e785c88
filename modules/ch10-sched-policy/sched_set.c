// SPDX-License-Identifier: MIT
/*
 * sched_set: set this process's scheduling policy and priority, then say
 * what the kernel reports back, through the system calls and through
 * /proc/self/stat (Linux Kernel Programming, chapter 10).
 *
 *   sched_set [-r] [-f] [-n FILE] POLICY VALUE
 *
 * POLICY is other, batch, idle (VALUE is the nice value, set with
 * setpriority()) or fifo, rr (VALUE is the real-time priority, 1-99).
 * -r adds SCHED_RESET_ON_FORK; -f forks a child afterwards, which reports
 * too (what it inherited); -n FILE writes each reporting process's PID to
 * FILE (the sched_attrs module's pid parameter), so that the kernel prints
 * the same task's attributes from its task_struct. A refused setting
 * prints the errno's name and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
	const char *arg, *name;
	int policy, rt;
} policies[] = {
	{"other", "SCHED_OTHER", SCHED_OTHER, 0},
	{"batch", "SCHED_BATCH", SCHED_BATCH, 0},
	{"idle", "SCHED_IDLE", SCHED_IDLE, 0},
	{"fifo", "SCHED_FIFO", SCHED_FIFO, 1},
	{"rr", "SCHED_RR", SCHED_RR, 1},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *policy_name(int policy)
{
	for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
		if (policies[i].policy == policy)
			return policies[i].name;
	return "?";
}

/* Fields 18 (priority), 19 (nice), 40 (rt_priority), 41 (policy) of /proc/self/stat. */
static int read_stat(long *prio, long *nice, long *rtprio, long *policy)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	int field;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold spaces */
	if (!p)
		return -1;
	p++;
	for (field = 3; field <= 41; field++) {
		char *end;
		long v;

		while (*p == ' ')
			p++;
		v = strtol(p, &end, 10);
		if (field == 18)
			*prio = v;
		else if (field == 19)
			*nice = v;
		else if (field == 40)
			*rtprio = v;
		else if (field == 41)
			*policy = v;
		p = strchr(p, ' ');
		if (!p && field < 41)
			return -1;
	}
	return 0;
}

static int report(const char *who, const char *notify)
{
	struct sched_param sp;
	long prio, nice, rtprio, policy;
	int pol, nv;

	pol = sched_getscheduler(0);
	if (pol < 0 || sched_getparam(0, &sp) < 0) {
		printf("sched_set: sched_getscheduler: %s\n", strerrorname_np(errno));
		return -1;
	}
	errno = 0;
	nv = getpriority(PRIO_PROCESS, 0);
	if (nv == -1 && errno) {
		printf("sched_set: getpriority: %s\n", strerrorname_np(errno));
		return -1;
	}
	printf("sched_set: %s %d: policy=%s%s rt_priority=%d nice=%d\n", who, getpid(),
	       policy_name(pol & ~SCHED_RESET_ON_FORK), pol & SCHED_RESET_ON_FORK ? "|SCHED_RESET_ON_FORK" : "",
	       sp.sched_priority, nv);
	if (read_stat(&prio, &nice, &rtprio, &policy) < 0) {
		printf("sched_set: cannot parse /proc/self/stat\n");
		return -1;
	}
	printf("sched_set: %s %d: stat priority=%ld nice=%ld rt_priority=%ld policy=%ld\n", who, getpid(),
	       prio, nice, rtprio, policy);
	fflush(stdout);
	if (notify) {
		FILE *f = fopen(notify, "w");

		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
			printf("sched_set: write %s: %s\n", notify, strerrorname_np(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *notify = NULL;
	int reset = 0, fork_child = 0, opt, value, flags;
	struct sched_param sp = {0};
	size_t i;

	while ((opt = getopt(argc, argv, "+rfn:")) != -1) {
		switch (opt) {
		case 'r':
			reset = 1;
			break;
		case 'f':
			fork_child = 1;
			break;
		case 'n':
			notify = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	for (i = 0; i < ARRAY_SIZE(policies); i++)
		if (!strcmp(argv[optind], policies[i].arg))
			break;
	if (i == ARRAY_SIZE(policies))
		goto usage;
	value = atoi(argv[optind + 1]);
	flags = reset ? SCHED_RESET_ON_FORK : 0;
	if (policies[i].rt)
		sp.sched_priority = value;
	if (sched_setscheduler(0, policies[i].policy | flags, &sp) < 0) {
		printf("sched_set: sched_setscheduler(%s, %d): %s\n", policies[i].name, sp.sched_priority,
		       strerrorname_np(errno));
		return 1;
	}
	if (!policies[i].rt && setpriority(PRIO_PROCESS, 0, value) < 0) {
		printf("sched_set: setpriority(%d): %s\n", value, strerrorname_np(errno));
		return 1;
	}
	if (report("pid", notify) < 0)
		return 1;
	if (fork_child) {
		int status;
		pid_t child = fork();

		if (child < 0) {
			perror("sched_set: fork");
			return 1;
		}
		if (child == 0)
			return report("child", notify) < 0;
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: sched_set [-r] [-f] [-n FILE] other|batch|idle NICE | fifo|rr RTPRIO\n");
	return 2;
}
