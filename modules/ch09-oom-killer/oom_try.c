// SPDX-License-Identifier: MIT
/*
 * oom_try: a user-space memory hog in the spirit of the book's
 * oom_killer_try (Linux Kernel Programming, chapter 9). It raises its own
 * oom_score_adj to 1000, so that the OOM killer picks it, then allocates
 * 8 KiB blocks (two pages) in a loop, writing to both pages so that they
 * are really faulted in, until the kernel kills it or the loop count is
 * reached.
 *
 *   oom_try [loops]    (default 1000000 loops, about 8 GB)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BLOCK (2 * 4096)

int main(int argc, char **argv)
{
	long loops = argc > 1 ? atol(argv[1]) : 1000000;
	FILE *adj = fopen("/proc/self/oom_score_adj", "w");

	if (!adj || fprintf(adj, "1000\n") < 0 || fclose(adj) != 0) {
		perror("oom_try: set oom_score_adj");
		return 1;
	}
	printf("oom_try: PID %d, %ld loops of %d bytes\n", getpid(), loops, BLOCK);
	fflush(stdout);
	for (long i = 0; i < loops; i++) {
		char *p = malloc(BLOCK);

		if (!p) {
			printf("oom_try: loop #%ld: malloc failure\n", i);
			return 0;
		}
		p[100] = 1;		/* first page */
		p[BLOCK - 100] = 1;	/* second page */
	}
	printf("oom_try: all %ld loops done, not killed\n", loops);
	return 0;
}
