// SPDX-License-Identifier: GPL-2.0
/*
 * ktap_lkm: lkmtest's own fixture. It prints a KTAP document on load, as
 * a KUnit suite built as a module does: one suite, three cases, one
 * skipped; with fail=1 the third case fails.
 */
#include <linux/module.h>
#include <linux/printk.h>

MODULE_DESCRIPTION("lkmtest fixture: prints KTAP on load");
MODULE_LICENSE("GPL");

static bool fail;
module_param(fail, bool, 0444);

static int __init ktap_lkm_init(void)
{
	pr_info("KTAP version 1\n");
	pr_info("1..1\n");
	pr_info("    KTAP version 1\n");
	pr_info("    # Subtest: ktap_lkm\n");
	pr_info("    1..3\n");
	pr_info("    ok 1 adds_up\n");
	pr_info("    ok 2 needs_hardware # SKIP no such device\n");
	if (fail) {
		pr_info("    # compares: EXPECTATION FAILED at ktap_lkm.c:27\n");
		pr_info("    not ok 3 compares\n");
		pr_info("not ok 1 ktap_lkm\n");
	} else {
		pr_info("    ok 3 compares\n");
		pr_info("ok 1 ktap_lkm\n");
	}
	return 0;
}

static void __exit ktap_lkm_exit(void)
{
}

module_init(ktap_lkm_init);
module_exit(ktap_lkm_exit);
