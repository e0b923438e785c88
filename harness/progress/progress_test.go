package progress

import "testing"

func TestObjectCounter(t *testing.T) {
	var events []Event
	ctx := With(t.Context(), func(e Event) { events = append(events, e) })
	c := NewObjectCounter(ctx, "kernel", 5)
	// Lines split across writes; only kbuild's object lines count.
	for _, chunk := range []string{"  CC      init/ma", "in.o\n  AS      arch/x86/entry/entry_64.o\n  HOSTCC  scripts/basic/fixdep\n",
		"  CC [M]  drivers/foo.o\nmake[1]: Entering directory\n  LD      vmlinux.o\n  AR      lib/lib.a\n  CALL    scripts/checksyscalls.sh\n"} {
		c.Write([]byte(chunk))
	}
	if c.Count() != 5 || len(events) != 5 || events[4].Done != 5 || events[4].Total != 5 || events[0].Unit != "objects" {
		t.Errorf("count %d, events %+v", c.Count(), events)
	}
}
