// SPDX-License-Identifier: MIT
/*
 * oom_order: forks three identical idle children, sets their oom_score_adj
 * to 0, 1000 and -1000, prints their oom_score values as
 * "adj 0: A, adj 1000: B, adj -1000: C", kills them, and exits 0 when
 * B > A and C == 0 (1 otherwise).
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_adj(pid_t pid, int adj)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", adj) < 0 || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static long read_score(pid_t pid)
{
	char path[64];
	long score = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/oom_score", pid);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &score) != 1)
		perror(path);
	if (f)
		fclose(f);
	return score;
}

int main(void)
{
	static const int adj[3] = { 0, 1000, -1000 };
	pid_t kids[3];
	long score[3];
	int i, ok;

	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			perror("fork");
			return 2;
		}
		if (kids[i] == 0) {
			for (;;)
				pause();
		}
	}
	for (i = 0; i < 3; i++)
		if (write_adj(kids[i], adj[i]))
			return 2;
	for (i = 0; i < 3; i++)
		score[i] = read_score(kids[i]);
	printf("adj 0: %ld, adj 1000: %ld, adj -1000: %ld\n", score[0], score[1], score[2]);
	for (i = 0; i < 3; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	ok = score[1] > score[0] && score[2] == 0;
	return ok ? 0 : 1;
}
