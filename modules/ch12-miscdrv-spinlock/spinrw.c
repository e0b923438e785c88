// SPDX-License-Identifier: MIT
/*
 * spinrw: the user side of miscdrv_spinlock (like the book's
 * rdwr_test_secret).
 *
 *   spinrw r DEVICE [BUFSIZE]  read once into a zeroed (resident) buffer of
 *                              BUFSIZE bytes (default 128): prints
 *                              "read N bytes: <secret>" or "read: ERRNO"
 *   spinrw w DEVICE SECRET     write SECRET and its NUL: "wrote N bytes"
 *   spinrw o DEVICE N          open DEVICE N times at once, then close the
 *                              descriptors in reverse order: "opened N"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bad_usage(void)
{
	fprintf(stderr, "usage: spinrw r DEVICE [BUFSIZE] | spinrw w DEVICE SECRET | spinrw o DEVICE N\n");
	return 2;
}

static int do_read(const char *dev, size_t size)
{
	char *buf = malloc(size + 1);
	ssize_t n;
	int fd;

	if (!buf)
		return 1;
	/* Touch every byte: the driver's copy_to_user() never faults. */
	memset(buf, 0, size + 1);
	fd = open(dev, O_RDONLY);
	if (fd < 0) {
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	n = read(fd, buf, size);
	if (n < 0)
		printf("read: %s\n", strerrorname_np(errno));
	else
		printf("read %zd bytes: %s\n", n, buf);
	close(fd);
	free(buf);
	return 0;
}

static int do_write(const char *dev, const char *secret)
{
	size_t len = strlen(secret) + 1;
	ssize_t n;
	int fd = open(dev, O_WRONLY);

	if (fd < 0) {
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	n = write(fd, secret, len);
	if (n < 0)
		printf("write: %s\n", strerrorname_np(errno));
	else
		printf("wrote %zd bytes\n", n);
	close(fd);
	return 0;
}

static int do_open(const char *dev, int n)
{
	int fds[64], i;

	if (n < 1 || n > 64)
		return bad_usage();
	for (i = 0; i < n; i++) {
		fds[i] = open(dev, O_RDONLY);
		if (fds[i] < 0) {
			printf("open #%d: %s\n", i + 1, strerrorname_np(errno));
			return 1;
		}
	}
	printf("opened %d\n", n);
	fflush(stdout);
	while (i-- > 0)
		close(fds[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || strlen(argv[1]) != 1)
		return bad_usage();
	switch (argv[1][0]) {
	case 'r':
		if (argc > 4)
			return bad_usage();
		return do_read(argv[2], argc > 3 ? strtoul(argv[3], NULL, 0) : 128);
	case 'w':
		if (argc != 4)
			return bad_usage();
		return do_write(argv[2], argv[3]);
	case 'o':
		if (argc != 4)
			return bad_usage();
		return do_open(argv[2], atoi(argv[3]));
	}
	return bad_usage();
}
