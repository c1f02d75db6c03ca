package apply

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/infra-flash/infra/internal/layers"
)

// scheduler runs layers as soon as what they depend on is done, at most
// Concurrency at once. A layer whose dependency did not apply is skipped, and so
// is everything depending on it; layers on other branches go on. Once the context
// is cancelled no layer starts, and the running ones are left to stop by
// themselves (the engine saves state and releases its lock when interrupted).
type scheduler struct {
	opts *Options
	op   Op
	mu   sync.Mutex // serialises OnEvent
	done sync.Map   // layer directory -> Status, once it finished
}

// statusOf is the outcome of a layer that finished, "" for any other.
func (s *scheduler) statusOf(dir string) (Status, string) {
	v, ok := s.done.Load(dir)
	if !ok {
		return "", ""
	}
	r := v.(LayerResult)
	return r.Status, r.waitsFor
}

func (s *scheduler) emit(e Event) {
	if s.opts.OnEvent == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.OnEvent(e)
}

func (s *scheduler) run(ctx context.Context, ls []*layers.Layer, ordered bool, do func(context.Context, *layers.Layer) LayerResult) []LayerResult {
	n := len(ls)
	index := map[string]int{}
	for i, l := range ls {
		index[l.Dir] = i
	}
	waiting := make([]int, n)      // dependencies not yet done
	dependents := make([][]int, n) // among the selected layers only
	if ordered {
		for i, l := range ls {
			for _, d := range l.DependsOn {
				if j, ok := index[d]; ok {
					waiting[i]++
					dependents[j] = append(dependents[j], i)
				}
			}
		}
	}
	results := make([]LayerResult, n)
	finished := make([]bool, n)
	done := make(chan int, n)
	var g errgroup.Group

	count := 0
	var finish func(i int, r LayerResult)
	finish = func(i int, r LayerResult) {
		results[i], finished[i] = r, true
		s.done.Store(ls[i].Dir, r)
		count++
		if r.Status == Skipped {
			s.emit(Event{Op: s.op, Layer: ls[i], Step: "skip", Result: &results[i]})
		}
	}
	// skip marks a layer and everything depending on it as not run.
	var skip func(i int, reason string)
	skip = func(i int, reason string) {
		if finished[i] {
			return
		}
		finish(i, LayerResult{Layer: ls[i], Status: Skipped, Reason: reason})
		for _, d := range dependents[i] {
			skip(d, fmt.Sprintf("not run: it depends on %s, which was skipped", ls[i].Dir))
		}
	}
	var ready []int
	for i := range ls {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	running := 0
	for count < n {
		// Start no more than the limit: a start waiting for a free slot would hold
		// back the report of the layers that finish meanwhile.
		for len(ready) > 0 && running < s.opts.Concurrency {
			i := ready[0]
			ready = ready[1:]
			if finished[i] {
				continue
			}
			if ctx.Err() != nil {
				skip(i, "not run: the run was stopped before it started")
				continue
			}
			running++
			g.Go(func() error {
				r := do(ctx, ls[i])
				results[i] = r
				done <- i
				return nil
			})
		}
		if running == 0 {
			break
		}
		i := <-done
		running--
		finish(i, results[i])
		s.emit(Event{Op: s.op, Layer: ls[i], Result: &results[i], Step: "done"})
		for _, d := range dependents[i] {
			if finished[d] {
				continue
			}
			if results[i].blocksDependents() {
				skip(d, fmt.Sprintf("not run: it depends on %s, which %s", ls[i].Dir, pastTense(results[i].Status)))
				continue
			}
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	_ = g.Wait()
	for i := range ls { // unreachable unless the graph had a cycle the model missed
		if !finished[i] {
			results[i] = LayerResult{Layer: ls[i], Status: Skipped, Reason: "not run: its dependencies never finished"}
		}
	}
	return results
}

func pastTense(s Status) string {
	switch s {
	case Failed:
		return "failed"
	case Locked:
		return "was locked by another run"
	case Refused:
		return "was refused"
	case Error:
		return "could not run"
	case Skipped:
		return "was skipped"
	}
	return "ended " + string(s)
}
