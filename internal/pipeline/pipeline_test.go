package pipeline_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

func setup(t *testing.T, files testfixture.Files) (*layers.Set, *native.Executor) {
	t.Helper()
	tools := testfixture.Tools(t, "terraform")
	src := t.TempDir()
	testfixture.Write(t, src, files)
	set, err := layers.Discover(os.DirFS(src), repoconfig.Defaults())
	require.NoError(t, err)
	exec, err := native.New(src, toolchain.CacheDir(), tools)
	require.NoError(t, err)
	t.Cleanup(func() { exec.Close() })
	return set, exec
}

func TestRunReportsEveryStageOfEveryLayerInApplyOrder(t *testing.T) {
	set, exec := setup(t, testfixture.Tree(testfixture.Diamond(5)...))
	calls := map[string]int{}
	rep := pipeline.Run(context.Background(), set.Layers, exec, pipeline.Options{
		Engine: "terraform", Concurrency: 4,
		OnResult: func(l *layers.Layer, k stage.Kind, r stage.Result) { calls[l.Dir+"/"+string(k)]++ },
	})
	require.Len(t, rep.Layers, 5)
	assert.Len(t, calls, 15)
	for key, n := range calls {
		assert.Equal(t, 1, n, key)
	}
	for i, l := range rep.Layers {
		assert.Equal(t, set.Layers[i].Dir, l.Layer.Dir)
		for _, k := range stage.Kinds {
			assert.Equal(t, stage.Pass, l.Result(k).Status, "%s %s: %+v", l.Layer.Dir, k, l.Result(k))
		}
	}
	assert.Equal(t, 0, rep.ExitCode())
	assert.Equal(t, "terraform", rep.Engine)
	assert.Positive(t, rep.Duration)
}

func TestRunOnlyTheRequestedStages(t *testing.T) {
	set, exec := setup(t, testfixture.Tree(testfixture.Chain("a", "b")...))
	rep := pipeline.Run(context.Background(), set.Layers[1:], exec, pipeline.Options{Stages: []stage.Kind{stage.Format}})
	require.Len(t, rep.Layers, 1)
	assert.Equal(t, "2.b", rep.Layers[0].Layer.Dir)
	assert.Equal(t, stage.Pass, rep.Layers[0].Result(stage.Format).Status)
	assert.Equal(t, stage.Skip, rep.Layers[0].Result(stage.Lint).Status)
	assert.Equal(t, stage.Skip, rep.Layers[0].Result(stage.Validate).Status)
}

func TestCancelledRunReportsErrorsNotPasses(t *testing.T) {
	set, exec := setup(t, testfixture.Tree(testfixture.Chain("a", "b")...))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := pipeline.Run(ctx, set.Layers, exec, pipeline.Options{})
	assert.Equal(t, 3, rep.ExitCode())
	for _, l := range rep.Layers {
		for _, k := range stage.Kinds {
			assert.Equal(t, stage.Error, l.Result(k).Status)
		}
	}
}
