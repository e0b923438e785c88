// SPDX-License-Identifier: MIT
/*
 * rr_interval: give a task a scheduling policy, then ask the kernel for
 * its round-robin quantum with sched_rr_get_interval() (Linux Kernel
 * Programming, chapter 10).
 *
 *   rr_interval [-n FILE] POLICY VALUE
 *
 * POLICY is fifo or rr (VALUE: the real-time priority) or other (VALUE:
 * the nice value). The task is a child stopped by SIGSTOP right after
 * fork(): it does not run while it has the policy, so no tick uses up its
 * quantum before the kernel is asked. rr_interval prints
 * "rr_interval: pid C: SCHED_RR: N ns"; with -n FILE it first writes the
 * child's PID to FILE (the rr_slice module's pid parameter), so that the
 * kernel prints the child's rt.time_slice. The child is then killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int query(pid_t child, int policy, const char *name, int value, const char *notify)
{
	struct sched_param sp = {0};
	struct timespec ts;

	if (policy != SCHED_OTHER)
		sp.sched_priority = value;
	if (sched_setscheduler(child, policy, &sp) < 0) {
		printf("rr_interval: sched_setscheduler(%s, %d): %s\n", name, sp.sched_priority, strerrorname_np(errno));
		return 1;
	}
	if (policy == SCHED_OTHER && setpriority(PRIO_PROCESS, child, value) < 0) {
		printf("rr_interval: setpriority(%d): %s\n", value, strerrorname_np(errno));
		return 1;
	}
	if (notify) {
		FILE *f = fopen(notify, "w");

		if (!f || fprintf(f, "%d\n", child) < 0 || fclose(f) != 0) {
			printf("rr_interval: write %s: %s\n", notify, strerrorname_np(errno));
			return 1;
		}
	}
	if (sched_rr_get_interval(child, &ts) < 0) {
		printf("rr_interval: sched_rr_get_interval: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("rr_interval: pid %d: %s: %lld ns\n", child, name, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}

int main(int argc, char **argv)
{
	const char *notify = NULL, *name;
	int policy, status, ret;
	pid_t child;

	if (argc == 5 && !strcmp(argv[1], "-n")) {
		notify = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3)
		goto usage;
	if (!strcmp(argv[1], "fifo"))
		policy = SCHED_FIFO, name = "SCHED_FIFO";
	else if (!strcmp(argv[1], "rr"))
		policy = SCHED_RR, name = "SCHED_RR";
	else if (!strcmp(argv[1], "other"))
		policy = SCHED_OTHER, name = "SCHED_OTHER";
	else
		goto usage;
	fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("rr_interval: fork");
		return 1;
	}
	if (child == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(child, &status, WUNTRACED) < 0 || !WIFSTOPPED(status)) {
		printf("rr_interval: the child did not stop\n");
		return 1;
	}
	ret = query(child, policy, name, atoi(argv[2]), notify);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return ret;
usage:
	fprintf(stderr, "usage: rr_interval [-n FILE] fifo|rr RTPRIO | other NICE\n");
	return 2;
}
