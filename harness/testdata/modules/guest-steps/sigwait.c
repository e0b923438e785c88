// SPDX-License-Identifier: MIT
/* lkmtest fixture helper: prints "ready", then exits 7 on SIGUSR1. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (!got)
		pause();
	printf("got SIGUSR1\n");
	return 7;
}
