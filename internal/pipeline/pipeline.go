// Package pipeline runs stages over layers with any stage.Runner and collects a
// report. Checks never need another layer's state, so every (layer, stage) pair is
// independent and they all run concurrently; ordering matters only for apply.
package pipeline

import (
	"context"
	"runtime"
	"sync"
	"time"

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
	return stage.Target{Path: l.Path, HasLockFile: l.HasLockFile, InitKey: l.InitKey, LintConfig: l.LintConfig, Modules: l.Modules, Shared: shared}
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

	type job struct {
		i    int
		kind stage.Kind
	}
	// Slowest stages first, so the short ones fill the gaps at the end.
	var jobs []job
	for _, k := range byCost(kinds) {
		for i := range selected {
			jobs = append(jobs, job{i, k})
		}
	}
	shared := stage.NewShared()
	queue := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				l := selected[j.i]
				res := runStage(ctx, opts.Cache, j.kind, r, Target(l, shared))
				mu.Lock()
				rep.Layers[j.i].Results[j.kind] = res
				if opts.OnResult != nil {
					opts.OnResult(l, j.kind, res)
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
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
