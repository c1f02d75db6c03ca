package layers

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach calls fn(0) … fn(n-1) on one worker per core, each taking the next index.
// Discovery's tasks are thousands of directories of a few microseconds each; an
// errgroup task per directory spent a third of the read time starting goroutines.
// A panic in fn is raised again in the caller, as errgroup does, rather than
// ending the process from a worker.
func forEach(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed sync.Once
	var panicked any
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					failed.Do(func() { panicked = p })
					next.Store(int64(n)) // the others stop at their next index
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
