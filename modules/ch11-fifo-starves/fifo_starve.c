// SPDX-License-Identifier: MIT
/*
 * fifo_starve: a SCHED_FIFO task starves a SCHED_OTHER one on the same CPU
 * (Linux Kernel Programming, chapters 10-11: real-time policies preempt
 * and outrank every normal task).
 *
 *   fifo_starve [-o] BURST_MS
 *
 * A normal (SCHED_OTHER, nice 0) child pinned to CPU 0 counts loops in
 * shared memory; the parent, pinned to CPU 1, measures its CPU time
 * (through the child's CPU-time clock) and its loops over 100 ms (a
 * window in which it had at least half of the CPU, of up to 10). A hog
 * child then becomes SCHED_FIFO priority 10 (with -o it stays
 * SCHED_OTHER nice 0: the control) and moves to CPU 0, where it spins for
 * BURST_MS ms of wall time, measuring what the normal task got meanwhile.
 * After the hog ends, the parent measures the normal task again the same way.
 * Each phase prints one line: CPU time in ms and in percent of the phase's
 * wall time, and loops.
 *
 * Keep BURST_MS below the real-time throttling budget
 * (/proc/sys/kernel/sched_rt_runtime_us, 950 ms of each second by
 * default): past it, the kernel lets normal tasks run for the rest of the
 * period (and on 6.12 its fair server does the same after 950 ms of
 * starvation).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Shared between the processes, so accessed with __atomic builtins. */
struct shared {
	unsigned long loops;
	int stop;
};

static long long clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		printf("fifo_starve: sched_setaffinity(cpu %d): %s\n", cpu, strerrorname_np(errno));
		return -1;
	}
	return 0;
}

static int set_policy(int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (sched_setscheduler(0, policy, &sp) < 0) {
		printf("fifo_starve: sched_setscheduler(%d, %d): %s\n", policy, prio, strerrorname_np(errno));
		return -1;
	}
	return 0;
}

/* What the normal task got over one phase of the test. */
struct sample {
	long long wall, cpu;
	unsigned long loops;
};

static void sample(struct sample *s, clockid_t normal, struct shared *sh)
{
	s->wall = clock_ns(CLOCK_MONOTONIC);
	s->cpu = clock_ns(normal);
	s->loops = __atomic_load_n(&sh->loops, __ATOMIC_RELAXED);
}

static void report(const char *what, const struct sample *a, const struct sample *b)
{
	long long wall = b->wall - a->wall, cpu = b->cpu - a->cpu;

	printf("fifo_starve: %s: normal task cpu %lld ns of %lld ms = %lld %%, %lu loops\n", what, cpu,
	       wall / 1000000, cpu * 100 / wall, b->loops - a->loops);
}

/*
 * What the normal task gets over 100 ms windows, seen from CPU 1: the first
 * window in which it had at least half of the CPU, or the last of 10. Under
 * TCG the host may not run CPU 0's vCPU for a while; then nothing runs
 * there, and a window that falls in such a stall shows 0.
 */
static void observe(const char *what, clockid_t normal, struct shared *sh)
{
	struct sample a, b;
	char label[64];
	int try;

	for (try = 1; try <= 10; try++) {
		sample(&a, normal, sh);
		usleep(100000);
		sample(&b, normal, sh);
		if ((b.cpu - a.cpu) * 2 >= b.wall - a.wall)
			break;
	}
	snprintf(label, sizeof(label), "%s (window %d)", what, try > 10 ? 10 : try);
	report(label, &a, &b);
}

static int burst(int fifo, long burst_ms, clockid_t normal, struct shared *sh)
{
	struct sample a, b;
	long long hog0, hog;
	char what[96];

	/* Take the policy while still on CPU 1, then move onto the normal task's CPU. */
	if (fifo ? set_policy(SCHED_FIFO, 10) : set_policy(SCHED_OTHER, 0))
		return 1;
	if (pin(0))
		return 1;
	sample(&a, normal, sh);
	hog0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	do
		b.wall = clock_ns(CLOCK_MONOTONIC);
	while (b.wall - a.wall < burst_ms * 1000000LL);
	sample(&b, normal, sh);
	hog = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - hog0;
	snprintf(what, sizeof(what), "hog %s on cpu 0 for %lld ms (hog cpu %lld %%)", fifo ? "SCHED_FIFO 10" : "SCHED_OTHER",
		 (b.wall - a.wall) / 1000000, hog * 100 / (b.wall - a.wall));
	report(what, &a, &b);
	return 0;
}

int main(int argc, char **argv)
{
	struct shared *sh;
	pid_t normal, hogpid;
	clockid_t clk;
	int fifo = 1, status;
	long burst_ms;

	if (argc == 3 && !strcmp(argv[1], "-o")) {
		fifo = 0;
		argv++;
		argc--;
	}
	burst_ms = argc == 2 ? atol(argv[1]) : 0;
	if (burst_ms <= 0) {
		fprintf(stderr, "usage: fifo_starve [-o] BURST_MS\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("fifo_starve: mmap");
		return 1;
	}
	if (pin(1))
		return 1;
	fflush(stdout);
	normal = fork();
	if (normal == 0) {
		if (set_policy(SCHED_OTHER, 0) || setpriority(PRIO_PROCESS, 0, 0) < 0 || pin(0)) {
			fflush(stdout);
			_exit(1);
		}
		while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
			__atomic_store_n(&sh->loops, sh->loops + 1, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (normal < 0 || clock_getcpuclockid(normal, &clk) != 0) {
		perror("fifo_starve: normal task");
		return 1;
	}
	usleep(50000);	/* the normal task is spinning on CPU 0 now */
	observe("alone on cpu 0", clk, sh);
	fflush(stdout);

	hogpid = fork();
	if (hogpid == 0) {
		int ret = burst(fifo, burst_ms, clk, sh);

		fflush(stdout);
		_exit(ret);
	}
	if (hogpid < 0 || waitpid(hogpid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("fifo_starve: the hog failed\n");
		__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
		return 1;
	}
	observe("after the hog", clk, sh);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	if (waitpid(normal, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("fifo_starve: the normal task failed\n");
		return 1;
	}
	return 0;
}
