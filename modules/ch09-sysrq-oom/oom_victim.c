// SPDX-License-Identifier: MIT
/*
 * oom_victim: sets its oom_score_adj to 1000 (the most attractive victim
 * there is), says so on stdout and in the kernel log (so that a test can
 * wait for it), and waits to be killed: the target of a manual OOM kill
 * (echo f > /proc/sysrq-trigger).
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	FILE *adj = fopen("/proc/self/oom_score_adj", "w");
	FILE *kmsg;

	if (!adj || fprintf(adj, "1000\n") < 0 || fclose(adj) != 0) {
		perror("oom_victim: set oom_score_adj");
		return 1;
	}
	printf("oom_victim: PID %d waiting\n", getpid());
	fflush(stdout);
	kmsg = fopen("/dev/kmsg", "w");
	if (kmsg) {
		fprintf(kmsg, "oom_victim: ready\n");
		fclose(kmsg);
	}
	for (;;)
		pause();
}
