// SPDX-License-Identifier: GPL-2.0
/*
 * chrt for the lkmtest guest: show or set a task's scheduling policy and
 * priority, with util-linux chrt's usage and messages for what the book's
 * scheduling chapters use (Debian's busybox has no chrt):
 *   chrt -p PID                    show PID's policy and priority
 *   chrt [POLICY] -p PRIO PID      set them for PID
 *   chrt [POLICY] PRIO CMD [ARG]   run CMD with them
 *   chrt -m                        each policy's priority range
 * POLICY: -o (SCHED_OTHER), -f (SCHED_FIFO), -r (SCHED_RR, the default),
 * -b (SCHED_BATCH), -i (SCHED_IDLE). Exit status 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	int policy;
	const char *name;
} policies[] = {
	{ SCHED_OTHER, "SCHED_OTHER" }, { SCHED_FIFO, "SCHED_FIFO" },
	{ SCHED_RR, "SCHED_RR" }, { SCHED_BATCH, "SCHED_BATCH" },
	{ SCHED_IDLE, "SCHED_IDLE" },
};

static const char *policy_name(int policy)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (policies[i].policy == (policy & ~SCHED_RESET_ON_FORK))
			return policies[i].name;
	return "SCHED_UNKNOWN";
}

static int usage(void)
{
	fprintf(stderr, "usage: chrt [-o|-f|-r|-b|-i] [-p] PRIO [PID | CMD [ARG...]]\n"
			"       chrt -p PID\n       chrt -m\n");
	return 1;
}

static int number(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end;
}

static int show(pid_t pid)
{
	struct sched_param sp;
	int policy = sched_getscheduler(pid);

	if (policy < 0 || sched_getparam(pid, &sp) < 0) {
		fprintf(stderr, "chrt: failed to get pid %d's policy: %s\n", pid, strerror(errno));
		return 1;
	}
	printf("pid %d's current scheduling policy: %s\n", pid, policy_name(policy));
	printf("pid %d's current scheduling priority: %d\n", pid, sp.sched_priority);
	return 0;
}

static int show_max(void)
{
	for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
		printf("%s min/max priority\t: %d/%d\n", policies[k].name,
		       sched_get_priority_min(policies[k].policy),
		       sched_get_priority_max(policies[k].policy));
	return 0;
}

int main(int argc, char **argv)
{
	int policy = SCHED_RR, use_pid = 0, i = 1;
	struct sched_param sp = { 0 };
	long prio, pid;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i] + 1;

		if (o[0] == '-') {	/* a long option */
			if (!strcmp(o, "-other"))
				policy = SCHED_OTHER;
			else if (!strcmp(o, "-fifo"))
				policy = SCHED_FIFO;
			else if (!strcmp(o, "-rr"))
				policy = SCHED_RR;
			else if (!strcmp(o, "-batch"))
				policy = SCHED_BATCH;
			else if (!strcmp(o, "-idle"))
				policy = SCHED_IDLE;
			else if (!strcmp(o, "-pid"))
				use_pid = 1;
			else if (!strcmp(o, "-max"))
				return show_max();
			else
				return usage();
			continue;
		}
		for (; *o; o++) {	/* short options, alone or bundled (-fp) */
			switch (*o) {
			case 'o':
				policy = SCHED_OTHER;
				break;
			case 'f':
				policy = SCHED_FIFO;
				break;
			case 'r':
				policy = SCHED_RR;
				break;
			case 'b':
				policy = SCHED_BATCH;
				break;
			case 'i':
				policy = SCHED_IDLE;
				break;
			case 'p':
				use_pid = 1;
				break;
			case 'm':
				return show_max();
			default:
				return usage();
			}
		}
	}
	if (use_pid && argc - i == 1) {
		if (number(argv[i], &pid))
			return usage();
		return show((pid_t)pid);
	}
	if (argc - i < 2 || number(argv[i], &prio))
		return usage();
	sp.sched_priority = (int)prio;
	if (use_pid) {
		if (argc - i != 2 || number(argv[i + 1], &pid))
			return usage();
		if (sched_setscheduler((pid_t)pid, policy, &sp) < 0) {
			fprintf(stderr, "chrt: failed to set pid %ld's policy: %s\n", pid, strerror(errno));
			return 1;
		}
		return 0;
	}
	if (sched_setscheduler(0, policy, &sp) < 0) {
		fprintf(stderr, "chrt: failed to set pid 0's policy: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "chrt: failed to execute %s: %s\n", argv[i + 1], strerror(errno));
	return 1;
}
