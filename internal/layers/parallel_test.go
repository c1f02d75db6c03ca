package layers

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestForEachCallsEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000} {
		calls := make([]atomic.Int32, n)
		forEach(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			require.EqualValues(t, 1, calls[i].Load(), "n=%d, index %d", n, i)
		}
	}
}

func TestForEachRaisesAWorkersPanicInTheCaller(t *testing.T) {
	defer func() {
		assert.Equal(t, "index 7", recover(), "the panic reaches the caller, not the end of the process")
	}()
	forEach(100, func(i int) {
		if i == 7 {
			panic("index 7")
		}
	})
	t.Fatal("forEach returned normally after a panic")
}
