// SPDX-License-Identifier: MIT
/*
 * oom_victim: sets its oom_score_adj to 1000 (the most attractive victim
 * there is), says so, and waits to be killed: the target of a manual OOM
 * kill (echo f > /proc/sysrq-trigger).
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	FILE *adj = fopen("/proc/self/oom_score_adj", "w");

	if (!adj || fprintf(adj, "1000\n") < 0 || fclose(adj) != 0) {
		perror("oom_victim: set oom_score_adj");
		return 1;
	}
	printf("oom_victim: PID %d waiting\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
