/* Two functions at offset 0 of two code sections, as a module's
 * .text and .init.text: the symbolizer must tell them apart. */
volatile int sink;

__attribute__((noinline)) void in_text(int x)
{
	sink = x;
	sink = x * 3;
}

__attribute__((noinline, section(".init.text"))) int in_init(void)
{
	sink = 7;
	in_text(sink);
	return sink;
}

/* As module_init does: an alias at in_init's address. */
int init_module(void) __attribute__((alias("in_init")));
