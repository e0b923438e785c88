// SPDX-License-Identifier: MIT
/* args: print each argument on a line of its own, between < and >. */
#include <stdio.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("<%s>\n", argv[i]);
	return 0;
}
