package spec

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses "30s", "2m" or a plain number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &posError{nodePos(n), "a duration must be a scalar like 30s"}
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return &posError{nodePos(n), fmt.Sprintf("invalid duration %q (want e.g. 30s or 2m)", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Error is a problem in a spec file, with its position.
type Error struct {
	// File is the spec's path.
	File string
	// Line is the line of the key or list item that is wrong (0 when
	// unknown).
	Line int
	// Column is its column, from 1 (0 when unknown: the YAML decoder's own
	// errors give only a line). Error does not print it.
	Column int
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
