package stage

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSharedRunsEachKeyOnceForConcurrentCallers(t *testing.T) {
	s := NewShared()
	var calls atomic.Int32
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.once("lint\x00modules/m", func() Result {
				calls.Add(1)
				return Result{Status: Fail, Findings: []Finding{{File: "modules/m/a.tf", Line: 1, Message: "x"}}}
			})
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	for _, r := range results {
		assert.Equal(t, Fail, r.Status)
	}
}

func TestNilSharedSharesNothing(t *testing.T) {
	var s *Shared
	n := 0
	for i := 0; i < 2; i++ {
		s.once("k", func() Result { n++; return Result{Status: Pass} })
	}
	assert.Equal(t, 2, n)
}

func TestMergeKeepsTheWorseStatusAndEachFindingOnce(t *testing.T) {
	f1 := Finding{File: "a.tf", Line: 1, Message: "one"}
	f2 := Finding{File: "m/b.tf", Line: 2, Message: "two"}
	cases := []struct {
		a, b Result
		want Status
	}{
		{Result{Status: Pass}, Result{Status: Fail, Findings: []Finding{f2}}, Fail},
		{Result{Status: Fail, Findings: []Finding{f1}}, Result{Status: Pass}, Fail},
		{Result{Status: Fail, Findings: []Finding{f1}}, Result{Status: Error, Findings: []Finding{f2}}, Error},
		{Result{Status: Pass}, Result{Status: Pass}, Pass},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, merge(tc.a, tc.b).Status)
	}
	m := merge(Result{Status: Fail, Findings: []Finding{f1, f2}}, Result{Status: Fail, Findings: []Finding{f2}})
	assert.Equal(t, []Finding{f1, f2}, m.Findings)
}
