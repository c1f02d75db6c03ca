// Package pipeline runs stages over layers with any stage.Runner and collects a
// report. Checks never need another layer's state, so every (layer, stage) pair is
// independent and they all run concurrently; ordering matters only for apply.
package pipeline

import (
	"context"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// Options tune a run.
type Options struct {
	Engine      string       // recorded in the report
	Stages      []stage.Kind // default: all
	Concurrency int          // default: DefaultConcurrency()
	// OnResult is called as each stage of each layer finishes (from worker goroutines,
	// one call at a time).
	OnResult func(l *layers.Layer, k stage.Kind, r stage.Result)
	// Cache, when set, reuses results whose inputs are unchanged.
	Cache Cache
}

// DefaultConcurrency: the tools spend much of their time starting up and waiting
// on provider plugins, so a little more than one job per core keeps cores busy.
func DefaultConcurrency() int { return runtime.NumCPU() + 1 }

// Target describes a layer to the stages.
func Target(l *layers.Layer, shared *stage.Shared) stage.Target {
	t := stage.Target{Path: l.Path, Real: l.Real, HasLockFile: l.HasLockFile, InitKey: l.InitKey, LintConfig: l.LintConfig,
		LintKey: l.LintKey, Modules: l.Modules, Shared: shared, Terragrunt: l.Terragrunt}
	for _, o := range l.LinkedOut {
		t.LinkedOut = append(t.LinkedOut, o.Module+" -> "+o.Target)
	}
	for _, p := range l.Problems {
		t.SyntaxErrors = append(t.SyntaxErrors, stage.Finding{File: p.File, Line: p.Line, Column: p.Column,
			Severity: "error", Message: p.Message, Detail: p.Detail})
	}
	return t
}

// Run checks the selected layers and returns the report, in apply order.
func Run(ctx context.Context, selected []*layers.Layer, r stage.Runner, opts Options) *report.Report {
	start := time.Now()
	kinds := opts.Stages
	if len(kinds) == 0 {
		kinds = stage.Kinds
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency()
	}
	rep := &report.Report{Engine: opts.Engine, Stages: kinds}
	for _, l := range selected {
		rep.Layers = append(rep.Layers, report.LayerResult{Layer: l, Results: map[stage.Kind]stage.Result{}})
	}

	// Slowest stages first, so the short ones fill the gaps at the end; Go blocks
	// while all workers are busy, so jobs start in this order.
	shared := stage.NewShared()
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(workers)
	for _, k := range byCost(kinds) {
		for i, l := range selected {
			g.Go(func() error {
				res := runStage(ctx, opts.Cache, k, r, Target(l, shared))
				mu.Lock()
				defer mu.Unlock()
				rep.Layers[i].Results[k] = res
				if opts.OnResult != nil {
					opts.OnResult(l, k, res)
				}
				return nil
			})
		}
	}
	_ = g.Wait() // stages report failures in their results, never as errors
	rep.Duration = time.Since(start)
	return rep
}

func byCost(kinds []stage.Kind) []stage.Kind {
	cost := map[stage.Kind]int{stage.Validate: 0, stage.Lint: 1, stage.Format: 2}
	out := append([]stage.Kind(nil), kinds...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && cost[out[j]] < cost[out[j-1]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
