package apply

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
)

// A layer's result is reported when it finishes, not when every ready layer has
// found a free slot: with one slot, a quick layer's line must not wait for the
// slow one started after it.
func TestFinishedLayerIsReportedWithoutWaitingForTheNextToStart(t *testing.T) {
	ls := []*layers.Layer{{Dir: "1.quick"}, {Dir: "1.slow"}, {Dir: "1.last"}}
	var mu sync.Mutex
	reported := map[string]time.Time{}
	ended := map[string]time.Time{}
	opts := &Options{Concurrency: 1, OnEvent: func(e Event) {
		if e.Result != nil {
			mu.Lock()
			reported[e.Layer.Dir] = time.Now()
			mu.Unlock()
		}
	}}
	s := &scheduler{opts: opts, op: OpPlan}
	results := s.run(context.Background(), ls, false, func(_ context.Context, l *layers.Layer) LayerResult {
		if l.Dir == "1.slow" {
			time.Sleep(400 * time.Millisecond)
		}
		mu.Lock()
		ended[l.Dir] = time.Now()
		mu.Unlock()
		return LayerResult{Layer: l, Status: NoChanges}
	})
	require.Len(t, results, 3)
	assert.True(t, reported["1.quick"].Before(ended["1.slow"]),
		"1.quick was reported %s after it ended, once 1.slow was done", reported["1.quick"].Sub(ended["1.quick"]))
}
