package planstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/planstore"
	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/testfixture"
)

// Plans kept by one run come back in another, byte for byte, only for the
// commit they were made at; the latest commit is told.
func TestPlansTravelThroughARealBucket(t *testing.T) {
	s3 := testfixture.StartS3(t)
	st, err := state.NewStore(state.Settings{Type: "s3", Bucket: s3.Bucket, Region: s3.Region, Endpoint: s3.Endpoint,
		PathStyle: true, AccessKey: s3.AccessKey, SecretKey: s3.Secret, Key: "infra-plans"})
	require.NoError(t, err)
	b := planstore.Bucket{Objects: st, Prefix: "infra-plans/octo/infra"}
	ctx := context.Background()
	commit, later := strings.Repeat("a", 40), strings.Repeat("b", 40)

	latest, err := b.Latest(ctx, 7)
	require.NoError(t, err)
	assert.Empty(t, latest)

	made := t.TempDir()
	require.NoError(t, plan.Save(made, plan.Meta{Layer: "1.one", Commit: commit, PlanHash: plan.Hash([]byte("PLAN"))}, []byte("PLAN")))
	require.NoError(t, b.Keep(ctx, 7, "", commit, made, []string{"1.one", "2.two"}), "2.two has no plan: left out")
	latest, err = b.Latest(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, commit, latest)

	got := t.TempDir()
	require.NoError(t, b.Fetch(ctx, 7, "", commit, got, []string{"1.one", "2.two"}))
	meta, data, err := plan.Load(os.DirFS(got), ".", "1.one")
	require.NoError(t, err)
	assert.Equal(t, "PLAN", string(data))
	assert.Equal(t, commit, meta.Commit)
	assert.NoFileExists(t, filepath.Join(got, plan.FileName("2.two")))

	other := t.TempDir()
	require.NoError(t, b.Fetch(ctx, 7, "", later, other, []string{"1.one"}))
	assert.NoFileExists(t, filepath.Join(other, plan.FileName("1.one")), "no plan for another commit")
	require.NoError(t, b.Fetch(ctx, 8, "", commit, other, []string{"1.one"}))
	assert.NoFileExists(t, filepath.Join(other, plan.FileName("1.one")), "nor for another pull request")

	require.NoError(t, b.Fetch(ctx, 7, "staging", commit, other, []string{"1.one"}))
	assert.NoFileExists(t, filepath.Join(other, plan.FileName("1.one")), "nor for an environment")
	require.NoError(t, b.Keep(ctx, 7, "staging", commit, made, []string{"1.one"}))
	staging := t.TempDir()
	require.NoError(t, b.Fetch(ctx, 7, "staging", commit, staging, []string{"1.one"}))
	assert.FileExists(t, filepath.Join(staging, plan.FileName("1.one")), "an environment's plans under its own directory")
	require.NoError(t, b.Fetch(ctx, 7, "prod", commit, other, []string{"1.one"}))
	assert.NoFileExists(t, filepath.Join(other, plan.FileName("1.one")), "never another environment's")

	assert.ErrorContains(t, b.Keep(ctx, 7, "", "../x", made, nil), "is not a full commit SHA")
	assert.ErrorContains(t, b.Fetch(ctx, 7, "", "main", got, nil), "is not a full commit SHA")
	assert.ErrorContains(t, b.Fetch(ctx, 7, "../x", commit, got, nil), "is not an environment's name")
}
