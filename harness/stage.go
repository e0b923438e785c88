package harness

import (
	"errors"

	"github.com/lkmtest/lkmtest/harness/hostdeps"
	"github.com/lkmtest/lkmtest/harness/result"
)

// inStage marks err as a failure of stage, or of StageTool when a host
// program or file is missing (its package is in the error).
func inStage(stage result.Stage, err error) error {
	if err == nil {
		return nil
	}
	var missing *hostdeps.MissingTool
	if errors.As(err, &missing) {
		stage = result.StageTool
	}
	return result.InStage(stage, err)
}

// inStageOf is the stage inStage gives err.
func inStageOf(stage result.Stage, err error) result.Stage {
	return result.StageOf(inStage(stage, err))
}
