package layers_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// checked discovers the layers and checks all their HCL.
func checked(t *testing.T, fsys fstest.MapFS) *layers.Set {
	t.Helper()
	set := discover(t, fsys)
	require.NoError(t, set.CheckHCL(fsys, set.Layers))
	return set
}

func TestSyntaxErrorIsAProblemOfItsLayerOnly(t *testing.T) {
	fsys := tree()
	// The error sits in the resource block; the remote state blocks around it parse.
	fsys["terraform/3.data/main.tf"] = file(backend("3.data/terraform.tfstate") +
		remoteState("l1", "1.bootstrap/terraform.tfstate") +
		"resource \"null_resource\" \"x\" {\n  triggers = = 1\n}\n" +
		remoteState("l2", "2.platform/terraform.tfstate"))
	set := checked(t, fsys)
	require.Len(t, set.Layers, 4)

	data := set.Get("3.data")
	require.Len(t, data.Problems, 1)
	p := data.Problems[0]
	assert.Equal(t, "terraform/3.data/main.tf", p.File)
	assert.Equal(t, 13, p.Line)
	assert.Equal(t, 14, p.Column)
	assert.Equal(t, "Invalid expression", p.Message)
	assert.Equal(t, []string{"1.bootstrap", "2.platform"}, data.DependsOn, "read from the blocks that parse")
	assert.Equal(t, []string{"terraform/3.data/main.tf does not parse; the dependencies of 3.data are read from its blocks that do"}, data.Warnings)
	assert.Equal(t, data.Warnings, set.Warnings)

	for _, other := range []string{"1.bootstrap", "2.platform", "4.insight"} {
		assert.Empty(t, set.Get(other).Problems, other)
		assert.Empty(t, set.Get(other).Warnings, other)
	}
	assert.Equal(t, []string{"3.data"}, set.Get("4.insight").DependsOn)
}

func TestSyntaxErrorInAModuleIsAProblemOfEveryCaller(t *testing.T) {
	fsys := tree()
	fsys["modules/ns/broken.tf"] = file("variable {")
	set := checked(t, fsys)
	for _, dir := range []string{"3.data"} {
		require.NotEmpty(t, set.Get(dir).Problems, dir)
		assert.Equal(t, "modules/ns/broken.tf", set.Get(dir).Problems[0].File)
		assert.Equal(t, 1, set.Get(dir).Problems[0].Line)
	}
	assert.Empty(t, set.Get("1.bootstrap").Problems)
	assert.Empty(t, set.Get("3.data").Warnings, "a module holds no dependencies")
}

func TestUnparsableJSONAndWholeFileErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf.json": file(`{"resource": {`),
		"terraform/2.b/main.tf":      file("resource \"x\" {}\n"),
		"terraform/3.c/main.tf":      file("\x00\x01"),
	}
	set := checked(t, fsys)
	require.Len(t, set.Layers, 3)
	for _, l := range set.Layers {
		require.NotEmpty(t, l.Problems, l.Dir)
		assert.NotZero(t, l.Problems[0].Line, l.Dir)
		assert.Contains(t, l.Problems[0].File, l.Path, l.Dir)
	}
	assert.Equal(t, "Missing name for resource", set.Get("2.b").Problems[0].Message)
}

func TestDirectoryWithoutTerraformFilesIsNotALayer(t *testing.T) {
	fsys := tree()
	fsys["terraform/5.notes/README.md"] = file("plans")
	fsys["terraform/6.empty"] = &fstest.MapFile{Mode: 0o755 | os.ModeDir}
	set := discover(t, fsys)
	assert.Equal(t, []string{"1.bootstrap", "2.platform", "3.data", "4.insight"}, dirsOf(set.Layers))
	assert.Equal(t, []layers.Skipped{
		{Path: "terraform/5.notes", Reason: "no .tf or .tf.json files"},
		{Path: "terraform/6.empty", Reason: "no .tf or .tf.json files"},
	}, set.Skipped)
}

func TestSameKeyInDifferentBucketsIsNotShared(t *testing.T) {
	bucketed := func(bucket string) string {
		return "terraform {\n  backend \"s3\" {\n    bucket = \"" + bucket + "\"\n    key    = \"terraform.tfstate\"\n  }\n}\n"
	}
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf": file(bucketed("a")),
		"terraform/2.b/main.tf": file(bucketed("b")),
		"terraform/3.c/main.tf": file("data \"terraform_remote_state\" \"b\" {\n  backend = \"s3\"\n  config = {\n    bucket = \"b\"\n    key    = \"terraform.tfstate\"\n  }\n}\n"),
		"terraform/4.d/main.tf": file("data \"terraform_remote_state\" \"x\" {\n  backend = \"s3\"\n  config = {\n    bucket = var.bucket\n    key    = \"terraform.tfstate\"\n  }\n}\n"),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"2.b"}, set.Get("3.c").DependsOn)
	assert.Equal(t, []string{}, set.Get("4.d").DependsOn)
	assert.Equal(t, []string{`terraform/4.d reads state key "terraform.tfstate", which 1.a, 2.b use in different buckets; name the bucket as a literal to make it a dependency`}, set.Get("4.d").Warnings)
}

func TestLocalStatePathsResolveAgainstTheirLayer(t *testing.T) {
	local := func(p string) string {
		return "terraform {\n  backend \"local\" {\n    path = \"" + p + "\"\n  }\n}\n"
	}
	fsys := fstest.MapFS{
		// The same literal path in two layers names two different files.
		"terraform/1.a/main.tf": file(local("terraform.tfstate")),
		"terraform/2.b/main.tf": file(local("terraform.tfstate")),
		"terraform/3.c/main.tf": file("data \"terraform_remote_state\" \"a\" {\n  backend = \"local\"\n  config = {\n    path = \"../1.a/terraform.tfstate\"\n  }\n}\n"),
	}
	set := discover(t, fsys)
	assert.Equal(t, []string{"1.a"}, set.Get("3.c").DependsOn)
}

// symlinkRepo writes a repository on disk where terraform/3.linked is a symlink to
// a directory inside the repository and terraform/4.outside one leaving it.
func symlinkRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(s), 0o644))
	}
	write("terraform/1.a/main.tf", backend("1.a/terraform.tfstate"))
	write("stacks/c/main.tf", backend("3.linked/terraform.tfstate")+remoteState("a", "1.a/terraform.tfstate"))
	write("terraform/5.b/main.tf", remoteState("c", "3.linked/terraform.tfstate"))
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "main.tf"), []byte(""), 0o644))
	require.NoError(t, os.Symlink("../stacks/c", filepath.Join(root, "terraform/3.linked")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "terraform/4.outside")))
	require.NoError(t, os.Symlink("../../..", filepath.Join(root, "terraform/6.up")))
	return root
}

func TestSymlinkedLayerDirectories(t *testing.T) {
	root := symlinkRepo(t)
	set, err := layers.Discover(os.DirFS(root), repoconfig.Defaults())
	require.NoError(t, err)
	assert.Equal(t, []string{"1.a", "3.linked", "5.b"}, dirsOf(set.Layers))
	assert.Equal(t, []string{"1.a"}, set.Get("3.linked").DependsOn)
	assert.Equal(t, []string{"3.linked"}, set.Get("5.b").DependsOn)
	require.Len(t, set.Skipped, 2)
	assert.Equal(t, "terraform/4.outside", set.Skipped[0].Path)
	assert.Contains(t, set.Skipped[0].Reason, "outside the repository")
	assert.Equal(t, layers.Skipped{Path: "terraform/6.up", Reason: "a symlink to ../../.., outside the repository"}, set.Skipped[1])
}

func TestLintKeyFollowsPluginBlocks(t *testing.T) {
	key := func(cfg string) string {
		fsys := tree()
		fsys[".tflint.hcl"] = file(cfg)
		return discover(t, fsys).Get("1.bootstrap").LintKey
	}
	base := key("plugin \"terraform\" {\n  enabled = true\n}\n")
	assert.NotEmpty(t, base)
	assert.Equal(t, base, key("# a comment\nrule \"terraform_naming_convention\" {\n  enabled = true\n}\nplugin \"terraform\" {\n  enabled = true\n}\n"), "rules need no init")
	added := key("plugin \"terraform\" {\n  enabled = true\n}\nplugin \"aws\" {\n  enabled = true\n  version = \"0.30.0\"\n  source  = \"github.com/terraform-linters/tflint-ruleset-aws\"\n}\n")
	assert.NotEqual(t, base, added, "a new plugin needs init")
	bumped := key("plugin \"terraform\" {\n  enabled = true\n}\nplugin \"aws\" {\n  enabled = true\n  version = \"0.31.0\"\n  source  = \"github.com/terraform-linters/tflint-ruleset-aws\"\n}\n")
	assert.NotEqual(t, added, bumped, "a plugin bump needs init")
	assert.NotEqual(t, base, key("plugin \"terraform\" {"), "a broken config is keyed on its content")
}

// writeRepo writes files on disk and makes links (path -> target).
func writeRepo(t *testing.T, files map[string]string, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(s), 0o644))
	}
	for p, target := range links {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.Symlink(target, filepath.Join(root, p)))
	}
	return root
}

// The engine runs in the directory a link points to, so "../" in a layer reached
// through a link counts from there: its local state and its modules are found
// from the real directory.
func TestALinkedLayersRelativePathsCountFromItsRealDirectory(t *testing.T) {
	root := writeRepo(t, map[string]string{
		"terraform/1.a/main.tf": "terraform {\n  backend \"local\" {\n    path = \"../state/a.tfstate\"\n  }\n}\n",
		"stacks/team/b/main.tf": "data \"terraform_remote_state\" \"a\" {\n  backend = \"local\"\n  config = {\n    path = \"../../../terraform/state/a.tfstate\"\n  }\n}\n" +
			"module \"m\" {\n  source = \"../m\"\n}\n",
		"stacks/team/m/main.tf": `resource "null_resource" "m" {}`,
	}, map[string]string{"terraform/2.b": "../stacks/team/b"})
	set, err := layers.Discover(os.DirFS(root), repoconfig.Defaults())
	require.NoError(t, err)
	b := set.Get("2.b")
	require.NotNil(t, b)
	assert.Equal(t, []string{"1.a"}, b.DependsOn)
	assert.Equal(t, "stacks/team/b", b.Real)
	assert.Equal(t, "stacks/team/b", b.WorkDir())
	assert.Equal(t, []string{"stacks/team/m"}, b.Modules)
	assert.Equal(t, []string{"2.b"}, set.AffectedBy([]string{"stacks/team/b/main.tf"}), "a change in the link's target changes the layer")
	assert.Equal(t, "", set.Get("1.a").Real)
}

func TestAModuleLinkedOutOfTheRepositoryIsNamed(t *testing.T) {
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "main.tf"), []byte(`resource "null_resource" "x" {}`), 0o644))
	root := writeRepo(t, map[string]string{
		"terraform/1.a/main.tf": "module \"m\" {\n  source = \"../../modules/shared\"\n}\n",
	}, map[string]string{"modules/shared": outside})
	set, err := layers.Discover(os.DirFS(root), repoconfig.Defaults())
	require.NoError(t, err)
	a := set.Get("1.a")
	assert.Equal(t, []layers.LinkedOut{{Module: "modules/shared", Target: outside}}, a.LinkedOut)
	assert.Equal(t, []string{}, a.Modules)
	assert.Equal(t, []string{"terraform/1.a calls the local module modules/shared, a symlink to " + outside + ", outside the repository: the checks see the repository alone, so they do not check terraform/1.a"}, a.Warnings)
}
