// SPDX-License-Identifier: MIT
/*
 * rdwr: reads or writes a secret device (like the book's rdwr_test_secret).
 *   rdwr r DEVICE [BUFSIZE]   prints "read N bytes: <secret>" or "read: ERRNO"
 *   rdwr w DEVICE SECRET      writes SECRET and its NUL, prints "wrote N bytes"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 3 || (argv[1][0] != 'r' && argv[1][0] != 'w') || (argv[1][0] == 'w' && argc != 4)) {
		fprintf(stderr, "usage: rdwr r DEVICE [BUFSIZE] | rdwr w DEVICE SECRET\n");
		return 2;
	}
	fd = open(argv[2], argv[1][0] == 'r' ? O_RDONLY : O_WRONLY);
	if (fd < 0) {
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	if (argv[1][0] == 'r') {
		size_t size = argc > 3 ? strtoul(argv[3], NULL, 0) : 128;
		char *buf = calloc(1, size + 1);
		ssize_t n;

		if (!buf)
			return 1;
		n = read(fd, buf, size);
		if (n < 0)
			printf("read: %s\n", strerrorname_np(errno));
		else
			printf("read %zd bytes: %s\n", n, buf);
		free(buf);
	} else {
		size_t len = strlen(argv[3]) + 1;
		ssize_t n = write(fd, argv[3], len);

		if (n < 0)
			printf("write: %s\n", strerrorname_np(errno));
		else
			printf("wrote %zd bytes\n", n);
	}
	close(fd);
	return 0;
}
