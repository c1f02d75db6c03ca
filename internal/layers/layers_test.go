package layers_test

import (
	"errors"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func backend(key string) string {
	return fmt.Sprintf("terraform {\n  backend \"s3\" {\n    key = %q\n  }\n}\n", key)
}

func remoteState(name, key string) string {
	return fmt.Sprintf("data \"terraform_remote_state\" %q {\n  backend = \"s3\"\n  config = {\n    key = %q\n  }\n}\n", name, key)
}

// tree is a four-layer repository shaped like the reference infrastructure.
func tree() fstest.MapFS {
	return fstest.MapFS{
		"terraform/1.bootstrap/main.tf": file(backend("1.bootstrap/terraform.tfstate") + `module "nodep" { source = "../../modules/k3s" }`),
		"terraform/2.platform/main.tf":  file(backend("2.platform/terraform.tfstate") + remoteState("l1", "1.bootstrap/terraform.tfstate")),
		"terraform/3.data/main.tf":      file(backend("3.data/terraform.tfstate") + remoteState("l2", "2.platform/terraform.tfstate") + `module "pg" { source = "../../modules/svc" }`),
		"terraform/4.insight/main.tf":   file(backend("4.insight/terraform.tfstate") + remoteState("l3", "3.data/terraform.tfstate")),
		"terraform/README.md":           file("not a layer"),
		"terraform/shared/x.tf":         file("# not a layer: no N. prefix"),
		"modules/k3s/main.tf":           file(`resource "null_resource" "k3s" {}`),
		"modules/svc/main.tf":           file(`module "inner" { source = "../ns" }`),
		"modules/ns/main.tf":            file(`resource "kubernetes_namespace_v1" "ns" {}`),
	}
}

func discover(t *testing.T, fsys fstest.MapFS) *layers.Set {
	t.Helper()
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(t, err)
	return set
}

func dirsOf(ls []*layers.Layer) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Dir)
	}
	return out
}

func TestDiscoverNamesLayersFromDirectories(t *testing.T) {
	set := discover(t, tree())
	require.Len(t, set.Layers, 4)
	l := set.Get("2.platform")
	require.NotNil(t, l)
	assert.Equal(t, "terraform/2.platform", l.Path)
	assert.Equal(t, 2, l.Index)
	assert.Equal(t, "platform", l.Name)
	assert.Equal(t, "Platform", l.Title)
	assert.Equal(t, "L2", l.ID())
	assert.Equal(t, "L2 Platform", l.Label())
}

func TestDiscoverReadsRemoteStateDependencies(t *testing.T) {
	set := discover(t, tree())
	assert.Equal(t, []string{}, set.Get("1.bootstrap").DependsOn)
	assert.Equal(t, []string{"1.bootstrap"}, set.Get("2.platform").DependsOn)
	assert.Equal(t, []string{"2.platform"}, set.Get("3.data").DependsOn)
	assert.Equal(t, []string{"3.data"}, set.Get("4.insight").DependsOn)
}

func TestDiscoverFollowsLocalModulesTransitively(t *testing.T) {
	set := discover(t, tree())
	assert.Equal(t, []string{"modules/k3s"}, set.Get("1.bootstrap").Modules)
	assert.Equal(t, []string{"modules/ns", "modules/svc"}, set.Get("3.data").Modules)
}

func TestDiscoverMatchesNonLiteralAndLocalStatePaths(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.base/main.tf": file(`resource "null_resource" "a" {}`),
		"terraform/2.app/main.tf": file(`data "terraform_remote_state" "b" {
  backend = "local"
  config = { path = "${path.module}/../1.base/terraform.tfstate" }
}`),
		"terraform/3.ext/main.tf": file(remoteState("other", "some-other-repo/terraform.tfstate")),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"1.base"}, set.Get("2.app").DependsOn)
	assert.Equal(t, []string{}, set.Get("3.ext").DependsOn, "state outside the repository is no dependency")
}

func TestTopologicalOrderFollowsDependenciesBeforeIndexes(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf": file(remoteState("c", "3.c/terraform.tfstate")),
		"terraform/2.b/main.tf": file(`resource "null_resource" "b" {}`),
		"terraform/3.c/main.tf": file(backend("3.c/terraform.tfstate")),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"2.b", "3.c", "1.a"}, dirsOf(set.Layers))
}

func TestExplicitDependencyFromConfig(t *testing.T) {
	fsys := fstest.MapFS{
		"infra.hcl":             file("layer \"1.a\" {\n  depends_on = [\"2.b\"]\n}\n"),
		"terraform/1.a/main.tf": file(`resource "null_resource" "a" {}`),
		"terraform/2.b/main.tf": file(`resource "null_resource" "b" {}`),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"2.b", "1.a"}, dirsOf(set.Layers))
}

func TestCycleIsAnInputErrorNamingTheCycle(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf": file(backend("a.tfstate")),
		"terraform/2.b/main.tf": file(backend("b.tfstate") + remoteState("c", "c.tfstate")),
		"terraform/3.c/main.tf": file(backend("c.tfstate") + remoteState("b", "b.tfstate")),
	}
	_, err := layers.Discover(fsys, repoconfig.Defaults())
	var inputErr *layers.InputError
	require.True(t, errors.As(err, &inputErr), "got %v", err)
	assert.Equal(t, "layer dependency cycle: 2.b -> 3.c -> 2.b", err.Error())
}

func TestInputErrors(t *testing.T) {
	cases := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"no layers directory", fstest.MapFS{"main.tf": file("")}, `no layers directory "terraform"`},
		{"no layer in it", fstest.MapFS{"terraform/modules/main.tf": file("")}, "a layer is a directory named N.name"},
		{"no layer with .tf files", fstest.MapFS{"terraform/1.a/README.md": file("")},
			"terraform/1.a is not one: no .tf or .tf.json files"},
		{"two layers share a state", fstest.MapFS{
			"terraform/1.a/main.tf": file(backend("shared.tfstate")),
			"terraform/2.b/main.tf": file(backend("other.tfstate")),
			"terraform/3.c/main.tf": file(backend("shared.tfstate")),
		}, `layers terraform/1.a and terraform/3.c keep their state in the same place (s3 backend, key "shared.tfstate")`},
		{"config names an unknown layer", fstest.MapFS{
			"infra.hcl":             file("layer \"9.z\" {\n  depends_on = []\n}\n"),
			"terraform/1.a/main.tf": file(""),
		}, `layer "9.z", which does not exist (layers: 1.a)`},
		{"config names an unknown dependency", fstest.MapFS{
			"infra.hcl":             file("layer \"1.a\" {\n  depends_on = [\"0.x\"]\n}\n"),
			"terraform/1.a/main.tf": file(""),
		}, `depends on "0.x", which does not exist`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := repoconfig.Load(tc.fsys)
			require.NoError(t, err)
			_, err = layers.Discover(tc.fsys, cfg)
			require.Error(t, err)
			var inputErr *layers.InputError
			assert.True(t, errors.As(err, &inputErr), "want an InputError, got %T", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSelect(t *testing.T) {
	set := discover(t, tree())
	noGit := func() ([]string, error) { t.Fatal("changed files were not asked for"); return nil, nil }
	cases := []struct {
		specs []string
		want  []string
	}{
		{[]string{"all"}, []string{"1.bootstrap", "2.platform", "3.data", "4.insight"}},
		{[]string{"3.data"}, []string{"3.data"}},
		{[]string{"platform"}, []string{"2.platform"}},
		{[]string{"L4"}, []string{"4.insight"}},
		{[]string{"l1"}, []string{"1.bootstrap"}},
		{[]string{"terraform/3.data/"}, []string{"3.data"}},
		{[]string{"insight,bootstrap"}, []string{"1.bootstrap", "4.insight"}},
		{[]string{"data", "L3", "3.data"}, []string{"3.data"}},
	}
	for _, tc := range cases {
		got, err := set.Select(tc.specs, noGit)
		require.NoError(t, err, tc.specs)
		assert.Equal(t, tc.want, dirsOf(got), tc.specs)
	}
}

func TestSelectUnknownLayerListsTheLayers(t *testing.T) {
	set := discover(t, tree())
	_, err := set.Select([]string{"plaform"}, nil)
	require.Error(t, err)
	assert.Equal(t, `unknown layer "plaform" (layers: 1.bootstrap, 2.platform, 3.data, 4.insight; or all, changed)`, err.Error())
}

func TestSelectChanged(t *testing.T) {
	set := discover(t, tree())
	cases := []struct {
		name  string
		files []string
		want  []string
	}{
		{"a layer file selects it and its dependents", []string{"terraform/2.platform/main.tf"}, []string{"2.platform", "3.data", "4.insight"}},
		{"the last layer alone", []string{"terraform/4.insight/outputs.tf"}, []string{"4.insight"}},
		{"a nested module selects its callers", []string{"modules/ns/main.tf"}, []string{"3.data", "4.insight"}},
		{"a module of the first layer", []string{"modules/k3s/main.tf"}, []string{"1.bootstrap", "2.platform", "3.data", "4.insight"}},
		{"files outside layers select nothing", []string{"README.md", "terraform/README.md", "ci/main.go"}, []string{}},
		{"the shared lint config selects all", []string{".tflint.hcl"}, []string{"1.bootstrap", "2.platform", "3.data", "4.insight"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := set.Select([]string{"changed"}, func() ([]string, error) { return tc.files, nil })
			require.NoError(t, err)
			assert.Equal(t, tc.want, dirsOf(got))
		})
	}
}

func TestInitKeyChangesOnlyWithInitInputs(t *testing.T) {
	base := tree()
	key := discover(t, base).Get("3.data").InitKey

	body := tree()
	body["terraform/3.data/extra.tf"] = file(`output "x" { value = 1 }`)
	assert.Equal(t, key, discover(t, body).Get("3.data").InitKey, "an output needs no init")

	provider := tree()
	provider["terraform/3.data/extra.tf"] = file(`resource "random_password" "p" { length = 8 }`)
	assert.NotEqual(t, key, discover(t, provider).Get("3.data").InitKey, "a new provider needs init")

	module := tree()
	module["modules/ns/extra.tf"] = file(`resource "helm_release" "r" {}`)
	assert.NotEqual(t, key, discover(t, module).Get("3.data").InitKey, "a provider in a called module needs init")

	lock := tree()
	lock["terraform/3.data/.terraform.lock.hcl"] = file("# lock")
	got := discover(t, lock).Get("3.data")
	assert.NotEqual(t, key, got.InitKey)
	assert.True(t, got.HasLockFile)
}

func TestLayersDirAtRepositoryRoot(t *testing.T) {
	fsys := fstest.MapFS{
		"infra.hcl":           file(`layers_dir = "."`),
		"1.bootstrap/main.tf": file(""),
		"2.platform/main.tf":  file(""),
		"modules/x/main.tf":   file(""),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"1.bootstrap", "2.platform"}, dirsOf(set.Layers))
	assert.Equal(t, "1.bootstrap", set.Get("1.bootstrap").Path)
}

func TestLintConfigPrefersTheLayersOwn(t *testing.T) {
	fsys := tree()
	fsys[".tflint.hcl"] = file("")
	fsys["terraform/2.platform/.tflint.hcl"] = file("")
	set := discover(t, fsys)
	assert.Equal(t, ".tflint.hcl", set.Get("1.bootstrap").LintConfig)
	assert.Equal(t, "terraform/2.platform/.tflint.hcl", set.Get("2.platform").LintConfig)
}

// Deleting a layer changes the layers that read its state: "changed" selects them,
// though the layer itself is gone.
func TestDeletedLayerAffectsItsReaders(t *testing.T) {
	fsys := tree()
	delete(fsys, "terraform/1.bootstrap/main.tf")
	set := discover(t, fsys)
	assert.Equal(t, []string{"2.platform", "3.data", "4.insight"}, set.AffectedBy([]string{"terraform/1.bootstrap/main.tf"}),
		"2.platform read its state; the others depend on 2.platform")
	assert.Equal(t, []string{"3.data", "4.insight"}, set.AffectedBy([]string{"terraform/3.data/main.tf"}), "unchanged for a layer that exists")
	assert.Empty(t, set.AffectedBy([]string{"terraform/9.other/main.tf"}), "no layer read 9.other's state")
	assert.Empty(t, set.AffectedBy([]string{"terraform/1.bootstrap"}), "a directory entry alone names no file")
}

// A local module outside the repository is not seen by the checks (a CI checkout
// has the repository alone): the model warns where it is called.
func TestModuleOutsideTheRepositoryWarns(t *testing.T) {
	fsys := tree()
	fsys["terraform/2.platform/out.tf"] = file(`module "o" { source = "../../../shared/o" }`)
	set := discover(t, fsys)
	l := set.Get("2.platform")
	assert.Equal(t, []string{"terraform/2.platform calls a local module at ../shared/o, outside the repository: the checks see the repository alone, so it reads as missing"}, l.Warnings)
	assert.Contains(t, set.Warnings, l.Warnings[0])
	assert.Empty(t, set.Get("1.bootstrap").Warnings)
}

func TestLayersSharingANumberAreNamedInAWarning(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, dir := range []string{"1.base", "1.dup", "2.app"} {
		fsys["terraform/"+dir+"/main.tf"] = &fstest.MapFile{Data: []byte("resource \"null_resource\" \"x\" {}\n")}
	}
	set, err := layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	assert.Equal(t, []string{"1.base, 1.dup share the number 1, so all are L1: select them by directory or name (--layer 1.base), not by ID"}, set.Warnings)

	delete(fsys, "terraform/1.dup/main.tf")
	set, err = layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	assert.Empty(t, set.Warnings, "distinct numbers: no warning")
}
