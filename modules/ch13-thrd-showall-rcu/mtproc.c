// SPDX-License-Identifier: MIT
/*
 * mtproc: a multithreaded process for the thread walks to find. The main
 * thread (comm "mtproc") starts NTHREADS workers, each naming itself
 * "mt-worker-N" with prctl(PR_SET_NAME); once all are named it logs
 * "mtproc: pid PID ready with 3 workers" to the kernel log (/dev/kmsg: a
 * test waits for that line) and waits until it is signalled.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NTHREADS 3

static pthread_barrier_t named;

static void *worker_main(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "mt-worker-%ld", (long)arg);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	FILE *f;
	long i;

	pthread_barrier_init(&named, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		if (pthread_create(&t[i], NULL, worker_main, (void *)(i + 1))) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&named);
	f = fopen("/dev/kmsg", "w");
	if (!f || fprintf(f, "mtproc: pid %d ready with %d workers\n", getpid(), NTHREADS) < 0 || fclose(f)) {
		perror("/dev/kmsg");
		return 1;
	}
	for (;;)
		pause();
}
