package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
)

// repoOf writes a repository and returns it as the native CLI sees it.
func repoOf(t *testing.T, files testfixture.Files) usecase.Repo {
	dir := t.TempDir()
	testfixture.Write(t, dir, files)
	return usecase.Repo{FS: repofs.Dir(dir)}
}

// refusing is an executor that fails the test when a use case opens it: options
// and selection must be refused before anything runs.
type refusing struct{ t *testing.T }

func (r refusing) Open(context.Context, usecase.CheckRun) (*usecase.CheckSession, error) {
	r.t.Fatal("the executor was opened")
	return nil, nil
}

func TestBadOptionsAreRefusedBeforeAnythingRuns(t *testing.T) {
	repo := repoOf(t, testfixture.Tree(testfixture.Chain("base", "app")...))
	cases := []struct {
		name string
		o    usecase.CheckOptions
		says string
	}{
		{"format", usecase.CheckOptions{Format: "yaml", Selection: usecase.Selection{Layers: []string{"all"}}}, `unknown --format "yaml"`},
		{"concurrency", usecase.CheckOptions{Concurrency: -1, Selection: usecase.Selection{Layers: []string{"all"}}}, "--concurrency must be positive"},
		{"engine", usecase.CheckOptions{Settings: usecase.Settings{Engine: "pulumi"}, Selection: usecase.Selection{Layers: []string{"all"}}}, `unknown --engine "pulumi"`},
		{"layers dir", usecase.CheckOptions{Settings: usecase.Settings{LayersDir: "../x"}, Selection: usecase.Selection{Layers: []string{"all"}}}, "--layers-dir"},
		{"unknown layer", usecase.CheckOptions{Selection: usecase.Selection{Layers: []string{"nope"}}}, `unknown layer "nope"`},
		{"changed without history", usecase.CheckOptions{Selection: usecase.Selection{Layers: []string{"changed"}}}, "needs the repository's git history"},
		{"a base that is a flag", usecase.CheckOptions{Selection: usecase.Selection{Layers: []string{"changed"}, Base: "--output=x"}}, "cannot start with '-'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := usecase.Check(context.Background(), repo, tc.o, refusing{t}, usecase.Sink{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.Equal(t, report.ExitBadInput, usecase.Code(err))
		})
	}
}

func TestApplyOptionsAreCheckedBeforeTheRepository(t *testing.T) {
	cases := []struct {
		name string
		o    usecase.ApplyOptions
		says string
	}{
		{"negative lock timeout", usecase.ApplyOptions{Op: apply.OpPlan, Format: "text", LockTimeout: -5 * time.Second}, "the lock timeout cannot be negative"},
		{"format", usecase.ApplyOptions{Op: apply.OpPlan, Format: "yaml"}, `unknown --format "yaml"`},
		{"a commit that is a flag", usecase.ApplyOptions{Op: apply.OpApply, Format: "text", Commit: "--exec=x"}, "is not a commit"},
		{"unlock without an ID", usecase.ApplyOptions{Op: apply.OpUnlock, Format: "text"}, "unlock needs --layer and --lock-id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// No repository at all: the options alone decide.
			_, err := usecase.Apply(context.Background(), usecase.Repo{}, tc.o, nil, usecase.Sink{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.Equal(t, report.ExitBadInput, usecase.Code(err))
		})
	}
}

func TestNothingSelectedOpensNoExecutor(t *testing.T) {
	repo := repoOf(t, testfixture.Tree(testfixture.Chain("base", "app")...))
	repo.Changed = func(context.Context, string) ([]string, error) { return []string{"README.md"}, nil }
	var progress []string
	res, err := usecase.Check(context.Background(), repo,
		usecase.CheckOptions{Selection: usecase.Selection{Layers: []string{"changed"}}}, refusing{t},
		usecase.Sink{Progress: func(s string) { progress = append(progress, s) }})
	require.NoError(t, err)
	assert.Empty(t, res.Report.Layers)
	assert.Equal(t, stage.Kinds, res.Report.Stages)
	assert.Equal(t, []string{"infra: no layer is affected by the change; nothing to check"}, progress)
	assert.Len(t, res.Model.Set.Layers, 2, "the whole model is kept for the PR comment's graph")
}

func TestGitFailingIsAToolErrorAndABadRefIsBadInput(t *testing.T) {
	repo := repoOf(t, testfixture.Tree(testfixture.Chain("base")...))
	repo.Changed = func(context.Context, string) ([]string, error) { return nil, errors.New("git: exec format error") }
	_, err := usecase.Check(context.Background(), repo,
		usecase.CheckOptions{Selection: usecase.Selection{Layers: []string{"changed"}}}, refusing{t}, usecase.Sink{})
	assert.Equal(t, report.ExitToolError, usecase.Code(err))
}
