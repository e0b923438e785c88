// SPDX-License-Identifier: MIT
/*
 * The baseline for lkmtest's warm-loop benchmark: an init that does nothing
 * but reset the machine (QEMU runs with -no-reboot, so it exits).
 */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	static const char msg[] = "trivial-init: up\n";

	write(1, msg, sizeof(msg) - 1);
	reboot(RB_AUTOBOOT);
	return 0;
}
