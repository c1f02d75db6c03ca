package pipeline

import (
	"context"

	"github.com/infra-flash/infra/internal/stage"
)

// Cache reuses the result of a (layer, stage) whose inputs are unchanged (see
// resultcache). It sits between the pipeline and stage.Run, so every executor and
// every stage is covered alike, and what a stage reads stays stage's knowledge.
type Cache interface {
	Run(ctx context.Context, kind stage.Kind, r stage.Runner, t stage.Target) stage.Result
}

// runStage runs one stage, through the cache when there is one.
func runStage(ctx context.Context, c Cache, kind stage.Kind, r stage.Runner, t stage.Target) stage.Result {
	if c == nil {
		return stage.Run(ctx, kind, r, t)
	}
	return c.Run(ctx, kind, r, t)
}
