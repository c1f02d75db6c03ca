package prlock_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/prlock"
	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/testfixture"
)

// backends are the two places a PR lock lives: a real S3 server's bucket,
// and a file next to a local state.
func backends(t *testing.T) map[string]func() *prlock.Locks {
	s3 := testfixture.StartS3(t)
	dir := t.TempDir()
	n := 0
	return map[string]func() *prlock.Locks{
		"s3": func() *prlock.Locks {
			n++
			l, err := prlock.ForState(state.Settings{Type: "s3", Bucket: s3.Bucket, Region: s3.Region, Endpoint: s3.Endpoint,
				PathStyle: true, AccessKey: s3.AccessKey, SecretKey: s3.Secret, Key: fmt.Sprintf("layer%d/terraform.tfstate", n)}, "")
			require.NoError(t, err)
			return l
		},
		"local": func() *prlock.Locks {
			n++
			l, err := prlock.ForState(state.Settings{Type: "local"}, filepath.Join(dir, fmt.Sprint(n), "terraform.tfstate"))
			require.NoError(t, err)
			return l
		},
	}
}

func TestALayerIsHeldByOnePullRequestAtATime(t *testing.T) {
	ctx := context.Background()
	for name, newLocks := range backends(t) {
		t.Run(name, func(t *testing.T) {
			l := newLocks()
			free, err := l.Holder(ctx)
			require.NoError(t, err)
			assert.Nil(t, free)

			first := prlock.Lock{Repo: "o/r", PR: 7, Layer: "2.platform", Commit: "aaa", By: "owner"}
			got, err := l.Acquire(ctx, first)
			require.NoError(t, err)
			assert.Equal(t, 7, got.PR)
			again, err := l.Acquire(ctx, prlock.Lock{Repo: "o/r", PR: 7, Layer: "2.platform", Commit: "bbb"})
			require.NoError(t, err, "the holder plans again")
			assert.Equal(t, "aaa", again.Commit, "the lock it holds")

			_, err = l.Acquire(ctx, prlock.Lock{Repo: "o/r", PR: 8, Layer: "2.platform"})
			var held *prlock.HeldError
			require.ErrorAs(t, err, &held)
			assert.Equal(t, 7, held.Holder.PR)
			assert.Contains(t, err.Error(), "2.platform is locked by pull request #7 (by @owner)")

			released, err := l.Release(ctx, "o/r", 8)
			require.ErrorAs(t, err, &held, "another's lock stays")
			assert.False(t, released)
			_, err = l.Acquire(ctx, prlock.Lock{Repo: "other/repo", PR: 7, Layer: "2.platform"})
			require.ErrorAs(t, err, &held, "same number, another repository")

			released, err = l.Release(ctx, "o/r", 7)
			require.NoError(t, err)
			assert.True(t, released)
			released, err = l.Release(ctx, "o/r", 7)
			require.NoError(t, err)
			assert.False(t, released, "free already")

			got, err = l.Acquire(ctx, prlock.Lock{Repo: "o/r", PR: 8, Layer: "2.platform"})
			require.NoError(t, err)
			assert.Equal(t, 8, got.PR)
		})
	}
}

// Pull requests racing for a free layer: exactly one gets it, every other is
// told that one's number.
func TestRacingPullRequestsGetOneWinner(t *testing.T) {
	ctx := context.Background()
	for name, newLocks := range backends(t) {
		t.Run(name, func(t *testing.T) {
			l := newLocks()
			const racers = 8
			var wg sync.WaitGroup
			won := make(chan int, racers)
			heldBy := make(chan int, racers)
			for pr := 1; pr <= racers; pr++ {
				wg.Add(1)
				go func(pr int) {
					defer wg.Done()
					got, err := l.Acquire(ctx, prlock.Lock{Repo: "o/r", PR: pr, Layer: "x"})
					var held *prlock.HeldError
					switch {
					case err == nil:
						won <- got.PR
					case assert.ErrorAs(t, err, &held):
						heldBy <- held.Holder.PR
					}
				}(pr)
			}
			wg.Wait()
			close(won)
			close(heldBy)
			var winners []int
			for pr := range won {
				winners = append(winners, pr)
			}
			require.Len(t, winners, 1)
			for pr := range heldBy {
				assert.Equal(t, winners[0], pr)
			}
		})
	}
}

func TestForeignOrBrokenLockObjects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := prlock.ForState(state.Settings{}, filepath.Join(dir, "terraform.tfstate"))
	require.NoError(t, err)
	created, err := prlock.Dir{}.Create(ctx, l.Key, []byte(`{"ID": "engine lock"}`))
	require.NoError(t, err)
	require.True(t, created)
	_, err = l.Holder(ctx)
	assert.ErrorContains(t, err, "is not a lock this tool wrote")
	_, err = l.Acquire(ctx, prlock.Lock{Repo: "o/r", PR: 1})
	assert.Error(t, err)
	_, err = l.Acquire(ctx, prlock.Lock{Repo: "o/r"})
	assert.ErrorContains(t, err, "needs the pull request's number")

	_, err = prlock.ForState(state.Settings{Type: "gcs"}, "")
	assert.ErrorContains(t, err, `not "gcs"`)
	_, err = prlock.ForState(state.Settings{Type: "s3"}, "")
	assert.ErrorContains(t, err, "backend settings lack")
}
