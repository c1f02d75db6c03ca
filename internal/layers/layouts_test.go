package layers_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// layout discovers one of the repository layouts under testdata/engine.
func layout(t *testing.T, name string) *layers.Set {
	t.Helper()
	fsys := os.DirFS(filepath.Join("..", "..", "testdata", "engine", name))
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(t, err)
	return set
}

func pathsOf(ls []*layers.Layer) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Path)
	}
	return out
}

func TestNumberedRootsAtTheRepositoryRootAreLayers(t *testing.T) {
	set := layout(t, "layout-numbered")
	assert.Equal(t, []string{"00-prereqs", "01-vpc", "02-eks"}, pathsOf(set.Layers))
	vpc := set.Get("01-vpc")
	require.NotNil(t, vpc)
	assert.Equal(t, []string{"00-prereqs"}, vpc.DependsOn)
	assert.Equal(t, "L1", vpc.ID())
	assert.Equal(t, "L1 Vpc", vpc.Label())
	assert.Equal(t, "vpc", vpc.Name)
	assert.Equal(t, []string{"01-vpc"}, set.Get("02-eks").DependsOn)
	got, err := set.Select([]string{"L2"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"02-eks"}, pathsOf(got))
}

func TestNamedRootsAreOrderedByTheStateTheyRead(t *testing.T) {
	set := layout(t, "layout-named")
	assert.Equal(t, []string{"bootstrap", "platform", "aws-root"}, pathsOf(set.Layers), "not alphabetical: aws-root reads platform")
	root := set.Get("aws-root")
	require.NotNil(t, root)
	assert.Equal(t, "aws-root", root.ID())
	assert.Equal(t, "Aws Root", root.Title)
	assert.True(t, root.Unnumbered)
	assert.Equal(t, []string{"platform"}, root.DependsOn)
	for _, spec := range []string{"aws-root", "aws-root/", "AWS-ROOT"} {
		got, err := set.Select([]string{spec}, nil)
		require.NoError(t, err, spec)
		assert.Equal(t, []string{"aws-root"}, pathsOf(got), spec)
	}
}

func TestEnvironmentDirectoriesAndSharedLayers(t *testing.T) {
	set := layout(t, "layout-envs")
	assert.Equal(t, []string{"bootstrap", "platform", "envs/prod/data", "envs/staging/data"}, pathsOf(set.Layers))
	staging := set.Get("staging-data")
	require.NotNil(t, staging)
	assert.Equal(t, "staging", staging.Env)
	assert.Equal(t, []string{"platform"}, staging.DependsOn, "an environment's layer comes after the shared one it reads")
	assert.Equal(t, "", set.Get("platform").Env)

	got, err := set.ForEnv("staging")
	require.NoError(t, err)
	assert.Equal(t, []string{"bootstrap", "platform", "envs/staging/data"}, pathsOf(got))
	_, err = set.ForEnv("qa")
	assert.EqualError(t, err, `unknown environment "qa" (environments: staging, prod)`)

	byName, err := set.Select([]string{"data"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"envs/prod/data", "envs/staging/data"}, pathsOf(byName), "a short name selects it in every environment")

	_, _, err = set.InEnv(set.Layers, "", true)
	assert.EqualError(t, err, "the selected layers belong to environments prod and staging: pass --env with one of them")
	all, env, err := set.InEnv(set.Layers, "", false)
	require.NoError(t, err)
	assert.Len(t, all, 4)
	assert.Empty(t, env)
	shared, env, err := set.InEnv(set.Layers[:2], "", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"bootstrap", "platform"}, pathsOf(shared), "shared layers are the same in every environment")
	assert.Empty(t, env)
	prod, env, err := set.InEnv(set.Layers, "prod", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"bootstrap", "platform", "envs/prod/data"}, pathsOf(prod))
	assert.Equal(t, "prod", env)

	// A layer of one environment's own says which environment: no --env needed.
	picked, err := set.Select([]string{"staging-data", "platform"}, nil)
	require.NoError(t, err)
	got, env, err = set.InEnv(picked, "", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"platform", "envs/staging/data"}, pathsOf(got))
	assert.Equal(t, "staging", env, "inferred")
	narrowed, _, err := set.InEnv(picked, "prod", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"platform"}, pathsOf(narrowed), "--env still narrows: staging's layer is left out")
}

func TestTheSameCodePerEnvironment(t *testing.T) {
	set := layout(t, "layout-tfvars")
	assert.Equal(t, []string{"network", "app"}, pathsOf(set.Layers))
	app := set.Get("app")
	require.NotNil(t, app)
	assert.Equal(t, []string{"staging", "prod"}, app.PerEnv)
	assert.Empty(t, set.Get("network").PerEnv, "no per-environment files: applied once")
	got, err := set.ForEnv("prod")
	require.NoError(t, err)
	assert.Equal(t, []string{"network", "app"}, pathsOf(got))
	vars, backend := set.EnvFiles(app, "prod")
	assert.Equal(t, []string{"env/prod.tfvars"}, vars)
	assert.Equal(t, "env/prod.s3.hcl", backend)
	vars, backend = set.EnvFiles(set.Get("network"), "prod")
	assert.Empty(t, vars)
	assert.Empty(t, backend)
}

func TestADirectoryOfSymlinks(t *testing.T) {
	set := layout(t, "layout-symlink")
	assert.Equal(t, []string{"layers/1.a", "layers/2.b"}, pathsOf(set.Layers))
	a, b := set.Get("1.a"), set.Get("2.b")
	assert.Equal(t, "stacks/team/a", a.Real)
	assert.Equal(t, []string{"stacks/team/a/mod"}, a.Modules)
	assert.Equal(t, []string{"1.a"}, b.DependsOn, "the local state path is read from the real directory")
	_, _, err := set.InEnv(set.Layers, "staging", false)
	assert.EqualError(t, err, "--env staging: infra.hcl declares no environments; leave --env out")
}

func TestATerragruntUnitIsALayerOfItsKind(t *testing.T) {
	set := layout(t, "layout-terragrunt")
	assert.Equal(t, []string{"terraform/1.base", "terraform/2.app"}, pathsOf(set.Layers))
	assert.True(t, set.Get("2.app").Terragrunt)
	assert.False(t, set.Get("1.base").Terragrunt)
}
