// SPDX-License-Identifier: MIT
/*
 * fpregs: does a write() system call leave the caller's FP registers as
 * they were? The Linux system call ABI says it does.
 *
 *   fpregs PATH VALUE N
 *
 * N times: put two known bit patterns in the first two FP/SIMD registers
 * (xmm0, xmm1 on x86_64; d0, d1 on arm64), write VALUE to PATH with a raw
 * system call in the same asm statement, and read both registers back.
 * Prints "clobbered K of N" (K: the calls after which a register had
 * changed) and, for the first such call, what the registers held.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long write_keeping(int fd, const char *buf, size_t len, uint64_t in0,
			  uint64_t in1, uint64_t out[2])
{
	uint64_t o0, o1;
	long ret;
#if defined(__x86_64__)
	asm volatile("movq %[i0], %%xmm0\n\t"
		     "movq %[i1], %%xmm1\n\t"
		     "syscall\n\t"
		     "movq %%xmm0, %[o0]\n\t"
		     "movq %%xmm1, %[o1]\n\t"
		     : "=a"(ret), [o0] "=r"(o0), [o1] "=r"(o1)
		     : "0"((long)SYS_write), "D"(fd), "S"(buf), "d"(len),
		       [i0] "r"(in0), [i1] "r"(in1)
		     : "rcx", "r11", "memory", "xmm0", "xmm1");
#elif defined(__aarch64__)
	register long x0 asm("x0") = fd;
	register long x1 asm("x1") = (long)buf;
	register long x2 asm("x2") = (long)len;
	register long x8 asm("x8") = SYS_write;

	asm volatile("fmov d0, %[i0]\n\t"
		     "fmov d1, %[i1]\n\t"
		     "svc #0\n\t"
		     "fmov %[o0], d0\n\t"
		     "fmov %[o1], d1\n\t"
		     : "+r"(x0), [o0] "=r"(o0), [o1] "=r"(o1)
		     : "r"(x1), "r"(x2), "r"(x8), [i0] "r"(in0), [i1] "r"(in1)
		     : "memory", "v0", "v1");
	ret = x0;
#else
#error "fpregs: x86_64 and arm64 only"
#endif
	out[0] = o0;
	out[1] = o1;
	return ret;
}

int main(int argc, char **argv)
{
	const uint64_t in0 = 0x1122334455667788ULL, in1 = 0x99aabbccddeeff00ULL;
	int i, n, fd, clobbered = 0;
	uint64_t out[2];
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: fpregs PATH VALUE N\n");
		return 2;
	}
	n = atoi(argv[3]);
	len = strlen(argv[2]);
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		long ret = write_keeping(fd, argv[2], len, in0, in1, out);

		if (ret != (long)len) {
			fprintf(stderr, "write returned %ld\n", ret);
			return 1;
		}
		if (out[0] != in0 || out[1] != in1) {
			if (!clobbered)
				printf("call %d: reg0 0x%016llx reg1 0x%016llx\n", i,
				       (unsigned long long)out[0], (unsigned long long)out[1]);
			clobbered++;
		}
	}
	close(fd);
	printf("clobbered %d of %d\n", clobbered, n);
	return 0;
}
