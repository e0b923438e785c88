// SPDX-License-Identifier: MIT
/*
 * vas_show: where the segments of a process lie in its own virtual address
 * space (Linux Kernel Programming, chapters 6-7: the process VAS).
 *
 * It takes the address of a function (text), of an initialized global
 * (data), of a zeroed global (bss), of a malloc() block after the break
 * grew (heap), of an anonymous mmap() (asked PROT_READ only), of the vDSO
 * (from the auxiliary vector) and of a local variable (stack), and finds
 * each in /proc/self/maps. The heap block is the second of two 96 KiB
 * malloc()s: together more than the heap static glibc's start-up left, so
 * the break grows (brk) to hold it. vas_show is linked statically: there
 * is no shared library (no ld.so, no libc.so) in its map.
 *
 *   vas_show [-R] [hold FILE | get FILE]
 *
 *   (none)     print the report and exit
 *   -R         first re-execute itself with personality(ADDR_NO_RANDOMIZE)
 *              (what setarch -R does): no ASLR for this process only
 *   hold FILE  write the report to FILE (atomically: FILE.tmp, renamed),
 *              then wait for SIGTERM and exit 0; meanwhile the process
 *              keeps its layout for a kernel module to read
 *   get FILE   wait (up to 10 s) for FILE to appear and print it
 *
 * The report, one line per item, addresses in hex:
 *   pid N
 *   aslr randomize_va_space=V personality=0xP
 *   vmas N                          lines of /proc/self/maps, but [vsyscall]
 *   REGION 0xADDR vma I 0xSTART-0xEND PERMS NAME
 *                                   REGION is text data bss heap mmap vdso
 *                                   stack; I the line of maps holding ADDR
 *   brk 0xBEFORE -> 0xAFTER         sbrk(0) before and after the mallocs
 *   stack_top 0xEND (ARCH)          end of the [stack] VMA
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__aarch64__)
#define ARCH "aarch64"
#else
#define ARCH "other"
#endif

/* Initialized data (.data) and zeroed data (.bss). */
int vas_data = 42;
char vas_bss[8192];

static char maps[1 << 16];
static char report[8192];
static size_t report_len;

struct vma {
	unsigned long start, end;
	char perms[5];
	const char *name;
	int index;
};

static void out(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(report) - report_len)
		report_len += n;
}

static int read_maps(void)
{
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += n;
	close(fd);
	maps[len] = '\0';
	return n < 0 ? -1 : 0;
}

/* find_vma fills v with the line of maps holding addr; 0 if there is one. */
static int find_vma(unsigned long addr, struct vma *v)
{
	static char names[16][256];
	static int used;
	const char *line = maps;
	int index = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long s, e;
		int name_at = 0;
		char perms[5];

		index++;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &s, &e, perms, &name_at) >= 3 &&
		    addr >= s && addr < e) {
			char *name = names[used++ % 16];
			size_t nlen = name_at && (size_t)name_at < len ? len - name_at : 0;

			if (nlen >= sizeof(names[0]))
				nlen = sizeof(names[0]) - 1;
			memcpy(name, line + name_at, nlen);
			name[nlen] = '\0';
			v->start = s;
			v->end = e;
			memcpy(v->perms, perms, sizeof(perms));
			v->name = name;
			v->index = index;
			return 0;
		}
		line += len + (nl ? 1 : 0);
	}
	return -1;
}

static int count_vmas(void)
{
	int n = 0;

	for (const char *p = maps; *p; p++)
		if (*p == '\n')
			n++;
	if (strstr(maps, "[vsyscall]"))
		n--; /* the x86_64 gate page: no VMA of the mm */
	return n;
}

static int show(const char *region, unsigned long addr)
{
	struct vma v;

	if (find_vma(addr, &v) < 0) {
		out("%s 0x%016lx not in /proc/self/maps\n", region, addr);
		return -1;
	}
	out("%-5s 0x%016lx vma %d 0x%016lx-0x%016lx %s%s%s\n", region, addr, v.index,
	    v.start, v.end, v.perms, *v.name ? " " : "", v.name);
	return 0;
}

static int aslr_setting(void)
{
	char b[16] = "";
	int fd = open("/proc/sys/kernel/randomize_va_space", O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, b, sizeof(b) - 1) < 0)
		b[0] = '\0';
	close(fd);
	return atoi(b);
}

static int build_report(void)
{
	int local = 1;	/* on the stack: its address is taken */
	unsigned long brk0 = (unsigned long)sbrk(0);
	/* Under malloc's mmap threshold (128 KiB): from the break, which grows. */
	char *first = malloc(96 * 1024);
	char *heap = malloc(96 * 1024);
	unsigned long brk1 = (unsigned long)sbrk(0);
	void *anon = mmap(NULL, 4 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	struct vma stack;
	int bad = 0;

	if (!first || !heap || anon == MAP_FAILED) {
		perror("vas_show: malloc/mmap");
		return -1;
	}
	memset(first, 0x5a, 96 * 1024);
	memset(heap, 0xa5, 96 * 1024);
	vas_bss[0] = (char)vas_data;
	if (read_maps() < 0) {
		perror("vas_show: /proc/self/maps");
		return -1;
	}
	out("pid %d\n", getpid());
	out("aslr randomize_va_space=%d personality=0x%08x\n", aslr_setting(),
	    (unsigned int)personality(0xffffffff));
	out("vmas %d\n", count_vmas());
	bad |= show("text", (unsigned long)&build_report);
	bad |= show("data", (unsigned long)&vas_data);
	bad |= show("bss", (unsigned long)&vas_bss);
	bad |= show("heap", (unsigned long)heap);
	bad |= show("mmap", (unsigned long)anon);
	bad |= show("vdso", vdso);
	bad |= show("stack", (unsigned long)&local);
	out("brk 0x%016lx -> 0x%016lx\n", brk0, brk1);
	if (find_vma((unsigned long)&local, &stack) == 0)
		out("stack_top 0x%016lx (%s)\n", stack.end, ARCH);
	return bad ? -1 : 0;
}

static int write_file(const char *path)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, report, report_len) != (ssize_t)report_len || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static int get_file(const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	ssize_t n;
	int fd;

	for (int i = 0; (fd = open(path, O_RDONLY)) < 0; i++) {
		if (errno != ENOENT || i >= 1000) {
			perror(path);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
	while ((n = read(fd, report, sizeof(report))) > 0)
		if (write(1, report, n) != n)
			return 1;
	close(fd);
	return n < 0;
}

int main(int argc, char **argv)
{
	sigset_t term;
	int sig;

	if (argc >= 2 && !strcmp(argv[1], "-R")) {
		/* Off for this process only, as setarch -R does: re-execute. */
		if (personality(ADDR_NO_RANDOMIZE | personality(0xffffffff)) < 0) {
			perror("vas_show: personality");
			return 1;
		}
		argv[1] = argv[0];
		execv("/proc/self/exe", argv + 1);
		perror("vas_show: execv");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "get"))
		return get_file(argv[2]);
	if (argc != 1 && !(argc == 3 && !strcmp(argv[1], "hold"))) {
		fprintf(stderr, "usage: vas_show [-R] [hold FILE | get FILE]\n");
		return 2;
	}
	/* Block SIGTERM before anyone can learn the pid from the report. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (build_report() < 0) {
		fwrite(report, 1, report_len, stderr);
		return 1;
	}
	if (argc == 1)
		return fwrite(report, 1, report_len, stdout) != report_len;
	if (write_file(argv[2]) < 0)
		return 1;
	/* Hold the layout still until SIGTERM: no allocation from here on. */
	if (sigwait(&term, &sig) != 0)
		return 1;
	return 0;
}
