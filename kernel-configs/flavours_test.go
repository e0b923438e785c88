package kernelconfigs

import (
	"strings"
	"testing"
)

func TestParseFlavours(t *testing.T) {
	fs, err := ParseFlavours(" kmemleak,kasan,kasan ")
	if err != nil || VariantOf(fs) != "kasan+kmemleak" {
		t.Fatalf("ParseFlavours = %v, %v; want kasan+kmemleak", fs, err)
	}
	if fs, err := ParseFlavours(""); err != nil || len(fs) != 0 {
		t.Errorf("no flavours: %v, %v", fs, err)
	}
	if _, err := ParseFlavours("kasan,msan"); err == nil || !strings.Contains(err.Error(), `unknown flavour "msan" (known: debug, kasan, kfence, kmemleak, ubsan)`) {
		t.Errorf("unknown flavour: %v", err)
	}
	// Every flavour is a fragment of this package, with a description.
	for _, f := range Flavours {
		if _, err := Read(f.Name + ".config"); err != nil || Description(f.Name) == "" {
			t.Errorf("flavour %s: fragment %v, description %q", f.Name, err, Description(f.Name))
		}
	}
}

func TestFlavoursOfVariant(t *testing.T) {
	fs := FlavoursOf("kasan+kmemleak+hz100")
	if len(fs) != 2 || fs[0].Name != "kasan" || !fs[1].LeakScan {
		t.Errorf("FlavoursOf = %+v, want kasan and kmemleak (a user's fragment left out)", fs)
	}
	ubsan, _ := ParseFlavours("ubsan")
	if why := Unsupported(ubsan, "5.4.302"); !strings.Contains(why, "UBSAN_BOUNDS appeared in 5.7") {
		t.Errorf("ubsan on 5.4: %q", why)
	}
	if why := Unsupported(ubsan, "6.1"); why != "" {
		t.Errorf("ubsan on 6.1: %q", why)
	}
	if why := Unsupported(ubsan, ""); why != "" {
		t.Errorf("ubsan on an unknown version: %q", why)
	}
}
