/* A function whose code is mostly a header's inlined function: its frames
 * must map to its own lines (the call), not the header's. */
#include "inlined.h"

volatile int sink;

__attribute__((noinline)) void caller(int x)
{
	put_twice(x + 1);	/* the call site */
	sink = x;
}
