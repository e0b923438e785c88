// SPDX-License-Identifier: MIT
/*
 * mt_helper: a multi-threaded process to find in the task list, and a
 * count of the tasks /proc shows.
 *
 *   mt_helper spawn N   start N threads named mt_worker0..N-1, each blocked;
 *                       when all run, log "mt_helper: pid P: N threads
 *                       started" to /dev/kmsg; exit 0 on SIGTERM
 *   mt_helper count     print "processes N" (numeric /proc entries),
 *                       "threads M" (their task/ entries), itself included,
 *                       "kthreads K" (those with PF_KTHREAD in the flags of
 *                       /proc/PID/stat) and "init_threads I" (/proc/1/task)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t started;

static void *worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "mt_worker%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&started);
	for (;;)
		pause();
	return NULL;
}

static int spawn(int n)
{
	char msg[80];
	sigset_t set;
	pthread_t tid;
	int fd, len, sig;
	long i;

	/* SIGTERM is taken by sigwait() below, in every thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&started, NULL, n + 1);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid, NULL, worker, (void *)i)) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&started);
	len = snprintf(msg, sizeof(msg), "mt_helper: pid %d: %d threads started\n", getpid(), n);
	fd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0 || write(fd, msg, len) != len) {
		perror("/dev/kmsg");
		return 1;
	}
	close(fd);
	sigwait(&set, &sig);
	printf("mt_helper: pid %d: signal %d, exiting\n", getpid(), sig);
	return 0;
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

#define PF_KTHREAD 0x00200000

/* Whether /proc/NAME/stat has PF_KTHREAD in its flags (the 9th field). */
static int is_kthread(const char *name)
{
	unsigned long flags;
	char path[300], buf[512], *p;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%s/stat", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return 0;
	p = strrchr(buf, ')');	/* the name may hold spaces and parentheses */
	ok = p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1;
	return ok && (flags & PF_KTHREAD);
}

static int count(void)
{
	int procs = 0, threads = 0, kthreads = 0, init_threads = 0;
	struct dirent *e, *te;
	char path[300];
	DIR *d, *td;

	d = opendir("/proc");
	if (!d) {
		perror("/proc");
		return 1;
	}
	while ((e = readdir(d))) {
		if (!numeric(e->d_name))
			continue;
		procs++;
		kthreads += is_kthread(e->d_name);
		snprintf(path, sizeof(path), "/proc/%s/task", e->d_name);
		td = opendir(path);
		if (!td)
			continue;	/* it exited meanwhile */
		while ((te = readdir(td))) {
			threads += numeric(te->d_name);
			if (!strcmp(e->d_name, "1"))
				init_threads += numeric(te->d_name);
		}
		closedir(td);
	}
	closedir(d);
	printf("processes %d\nthreads %d\nkthreads %d\ninit_threads %d\n",
	       procs, threads, kthreads, init_threads);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "count"))
		return count();
	fprintf(stderr, "usage: mt_helper spawn N | mt_helper count\n");
	return 2;
}
