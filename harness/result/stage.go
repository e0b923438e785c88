package result

import (
	"errors"
	"fmt"
)

// Stage names a stage of the pipeline, for failures that are lkmtest's
// (ERROR) rather than the test's.
type Stage string

// The stages that can fail before a test's verdict.
const (
	StageResolve   Stage = "resolve"   // the kernel source
	StageConfigure Stage = "configure" // the kernel's .config
	StageBuild     Stage = "build"     // the kernel
	StageModules   Stage = "modules"   // the test's modules and helpers
	StagePack      Stage = "pack"      // the initramfs
	StageBoot      Stage = "boot"      // QEMU, the accelerator, the agent
	StageTool      Stage = "tool"      // a host program is missing
)

// StageError is a failure of one stage.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// InStage wraps err as a failure of stage, unless it already names one
// (the first stage to fail is the one that says).
func InStage(stage Stage, err error) error {
	if err == nil {
		return nil
	}
	var se *StageError
	if errors.As(err, &se) {
		return err
	}
	return &StageError{Stage: stage, Err: err}
}

// StageOf is the stage err names ("" when none).
func StageOf(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

// Describe is err's message with its stage: "build: make: exit status 2".
func Describe(err error) string {
	if s := StageOf(err); s != "" {
		return fmt.Sprintf("%s: %v", s, err)
	}
	return err.Error()
}
