// SPDX-License-Identifier: MIT
/*
 * mutex_try: the user side of mutex_lkm.
 *
 *   mutex_try hold MS        write "hold MS": keep the mutex for MS ms
 *   mutex_try read [restart] read once; SIGUSR1 has a handler installed
 *                            without SA_RESTART (or with it, "restart")
 *
 * read prints "read returned N: <data>" or "read returned -1: <ERRNO>";
 * before blocking it writes its pid to /tmp/mutex_try.pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEV "/dev/mutex_lkm"

static void on_usr1(int sig)
{
	(void)sig;
	/* Async-signal-safe: just say it arrived. */
	write(1, "got SIGUSR1\n", 12);
}

static int do_read(int restart)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
	char buf[64];
	FILE *pidf;
	ssize_t n;
	int fd;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}
	pidf = fopen("/tmp/mutex_try.pid", "w");
	if (!pidf || fprintf(pidf, "%d\n", getpid()) < 0 || fclose(pidf) != 0) {
		perror("/tmp/mutex_try.pid");
		return 1;
	}
	fd = open(DEV, O_RDONLY);
	if (fd < 0) {
		perror(DEV);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("read returned -1: %s\n", strerrorname_np(errno));
	} else {
		buf[n] = '\0';
		printf("read returned %zd: %s", n, buf);
	}
	close(fd);
	return 0;
}

static int do_hold(const char *ms)
{
	char cmd[32];
	int fd = open(DEV, O_WRONLY);
	int len;

	if (fd < 0) {
		perror(DEV);
		return 1;
	}
	len = snprintf(cmd, sizeof(cmd), "hold %s", ms);
	if (write(fd, cmd, len) != len) {
		perror("write");
		return 1;
	}
	close(fd);
	printf("held and released\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "read"))
		return do_read(argc == 3 && !strcmp(argv[2], "restart"));
	fprintf(stderr, "usage: mutex_try hold MS | mutex_try read [restart]\n");
	return 2;
}
