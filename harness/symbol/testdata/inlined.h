/* A header's inline function, as kmalloc() is slab.h's. */
extern volatile int sink;

static inline __attribute__((always_inline)) void put_twice(int x)
{
	sink = x;
	sink = x * 5;
}
