package klog

import "testing"

// kmemleak's report, as 6.1 prints it after the module is gone (addresses
// only) and as 6.9+ prints it while it is loaded (names, no addresses).
func TestParseLeaks(t *testing.T) {
	text := `unreferenced object 0xffff888004c0e9c0 (size 64):
  comm "insmod", pid 28, jiffies 4294668468 (age 8.120s)
  hex dump (first 32 bytes):
    4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c 4c  LLLLLLLLLLLLLLLL
  backtrace:
    [<ffffffff812bf5e4>] kmalloc_trace+0x24/0x90
    [<ffffffffa0000155>] 0xffffffffa0000155
    [<ffffffff81000e4f>] do_one_initcall+0x4f/0x200
unreferenced object 0xffff888004c0ea00 (size 128):
  comm "insmod", pid 30, jiffies 4294668999
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace (crc 7b5a8b56):
    __kmalloc_cache_noprof+0x2b0/0x340
    membugs_leak+0x15/0x40 [membugs]
    do_one_initcall+0x4f/0x200
`
	reps := ParseLeaks(text)
	if len(reps) != 2 {
		t.Fatalf("%d leaks, want 2", len(reps))
	}
	a, b := reps[0], reps[1]
	if a.Kind != KindLeak || a.LeakSize != 64 || a.LeakComm != "insmod" || len(a.Frames) != 3 {
		t.Errorf("first leak %+v", a)
	}
	if f := a.Frames[1]; f.Func != "" || f.Addr != 0xffffffffa0000155 || f.Kind != "call" {
		t.Errorf("an unloaded module's frame: %+v, want its address only", f)
	}
	if a.Title != "memory leak in do_one_initcall (64 bytes)" {
		t.Errorf("title %q (the allocator is no culprit)", a.Title)
	}
	if len(b.Frames) != 3 || b.Frames[1].Func != "membugs_leak" || b.Frames[1].Module != "membugs" || b.Frames[1].Off != 0x15 {
		t.Errorf("second leak frames %+v", b.Frames)
	}
	if b.Title != "memory leak in membugs_leak (128 bytes)" {
		t.Errorf("title %q", b.Title)
	}
	if len(ParseLeaks("")) != 0 {
		t.Errorf("an empty kmemleak file has leaks")
	}
}
