package result

import "encoding/json"

// Cell is one (kernel, arch) combination of a run, or a spec's kernel
// variant of one.
type Cell struct {
	// Kernel is the kernel as asked ("6.1", "6.6.62"); Release the
	// resolved release ("6.1.192"), once known.
	Kernel  string `json:"kernel"`
	Release string `json:"release,omitempty"`
	// Arch is the guest arch.
	Arch string `json:"arch"`
	// Variant names a spec's kernel variant (boot.config: "debug").
	Variant string `json:"variant,omitempty"`
	// Error is why the cell's kernel could not be prepared.
	Error string `json:"error,omitempty"`
}

// Label names the cell: "6.1.192-x86_64" (the kernel as asked until the
// release is known), "+variant" for a variant.
func (c Cell) Label() string {
	k := c.Release
	if k == "" {
		k = c.Kernel
	}
	l := k + "-" + c.Arch
	if c.Variant != "" {
		l += "+" + c.Variant
	}
	return l
}

// Base is the cell without its variant.
func (c Cell) Base() Cell {
	c.Variant = ""
	return c
}

// MarshalJSON writes the label too, for readers of results.json.
func (c Cell) MarshalJSON() ([]byte, error) {
	type plain Cell
	return json.Marshal(struct {
		Label string `json:"label"`
		plain
	}{c.Label(), plain(c)})
}
