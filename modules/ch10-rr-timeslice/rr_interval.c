// SPDX-License-Identifier: MIT
/*
 * rr_interval: set this process's scheduling policy, then ask the kernel
 * for its round-robin quantum with sched_rr_get_interval() (Linux Kernel
 * Programming, chapter 10).
 *
 *   rr_interval [-n FILE] POLICY VALUE
 *
 * POLICY is fifo or rr (VALUE: the real-time priority) or other (VALUE:
 * the nice value). It prints "rr_interval: pid P: SCHED_RR: N ns". -n FILE
 * writes the PID to FILE (the rr_slice module's pid parameter) right after
 * the policy change, so that the kernel prints what is left of the task's
 * quantum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sched_param sp = {0};
	const char *notify = NULL, *name;
	struct timespec ts;
	int policy, value, fd = -1, len = 0;
	char pid[16];

	if (argc == 5 && !strcmp(argv[1], "-n")) {
		notify = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3)
		goto usage;
	value = atoi(argv[2]);
	if (!strcmp(argv[1], "fifo")) {
		policy = SCHED_FIFO, name = "SCHED_FIFO";
		sp.sched_priority = value;
	} else if (!strcmp(argv[1], "rr")) {
		policy = SCHED_RR, name = "SCHED_RR";
		sp.sched_priority = value;
	} else if (!strcmp(argv[1], "other")) {
		policy = SCHED_OTHER, name = "SCHED_OTHER";
	} else {
		goto usage;
	}
	/*
	 * Open the module's parameter first, so that the kernel looks at the
	 * quantum right after the policy change, before ticks use it up.
	 */
	if (notify) {
		fd = open(notify, O_WRONLY);
		if (fd < 0) {
			printf("rr_interval: open %s: %s\n", notify, strerrorname_np(errno));
			return 1;
		}
		len = snprintf(pid, sizeof(pid), "%d\n", getpid());
	}
	if (sched_setscheduler(0, policy, &sp) < 0) {
		printf("rr_interval: sched_setscheduler(%s, %d): %s\n", name, sp.sched_priority, strerrorname_np(errno));
		return 1;
	}
	if (fd >= 0 && (write(fd, pid, len) != len || close(fd) < 0)) {
		printf("rr_interval: write %s: %s\n", notify, strerrorname_np(errno));
		return 1;
	}
	if (policy == SCHED_OTHER && setpriority(PRIO_PROCESS, 0, value) < 0) {
		printf("rr_interval: setpriority(%d): %s\n", value, strerrorname_np(errno));
		return 1;
	}
	if (sched_rr_get_interval(0, &ts) < 0) {
		printf("rr_interval: sched_rr_get_interval: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("rr_interval: pid %d: %s: %lld ns\n", getpid(), name, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
usage:
	fprintf(stderr, "usage: rr_interval [-n FILE] fifo|rr RTPRIO | other NICE\n");
	return 2;
}
