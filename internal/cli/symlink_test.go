package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// link makes a symlink at the repository path p.
func link(t *testing.T, root, p, target string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
	require.NoError(t, os.Symlink(target, filepath.Join(root, p)))
}

// A layer directory that is a symlink: an unformatted edit behind the link is
// found on the next run, never answered from the result cache.
func TestAnEditBehindALinkedLayerIsNoCachedPass(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Files{
		"infra.hcl":      "layers_dir = \"layers\"\n",
		"real/a/main.tf": "terraform {\n  required_version = \">= 1.5\"\n}\n\noutput \"a\" {\n  value = 1\n}\n",
	})
	link(t, src, "layers/1.a", "../real/a")
	r := run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)

	f, err := os.OpenFile(filepath.Join(src, "real/a/main.tf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("output \"b\" {\nvalue   = 2\n}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r = run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 1, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 1)
	assert.Equal(t, "fail", rep.Layers[0].Format.Status)
	require.NotEmpty(t, rep.Layers[0].Format.Findings)
	assert.Equal(t, "layers/1.a/main.tf", rep.Layers[0].Format.Findings[0].File, "found under the layer's path")
}

// The engine counts "../" from the directory a link points to: module paths and
// the root lint config are given to the tools from there.
func TestALinkedLayerAtAnotherDepthChecksLikeTheRawTools(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Files{
		".tflint.hcl":                "plugin \"terraform\" {\n  enabled = true\n  preset  = \"recommended\"\n}\n",
		"stacks/team/a/main.tf":      "terraform {\n  required_version = \">= 1.5\"\n}\n\nmodule \"m\" {\n  source = \"./mod\"\n}\n",
		"stacks/team/a/mod/main.tf":  "terraform {\n  required_version = \">= 1.5\"\n}\n\nlocals {\n  m = 1\n}\n\noutput \"m\" {\n  value = local.m\n}\n",
		"terraform/2.b/main.tf":      "terraform {\n  required_version = \">= 1.5\"\n}\n",
		"stacks/team/a/unused.tftpl": "not hcl",
	})
	link(t, src, "terraform/1.a", "../stacks/team/a")
	r := run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 2)
	assert.Equal(t, "1.a", rep.Layers[0].Name)
	for _, s := range []jsonStage{rep.Layers[0].Format, rep.Layers[0].Lint, rep.Layers[0].Validate} {
		assert.Equal(t, "pass", s.Status, "%+v", s.Findings)
	}
}

// A module reached through a symlink out of the repository cannot be checked
// where the checks run: the layer says so, and no message names the workspace.
func TestAModuleLinkedOutOfTheRepositoryIsNotAFailure(t *testing.T) {
	testfixture.Tools(t, "terraform")
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "main.tf"), []byte("locals {\n  m = 1\n}\n"), 0o644))
	src := repo(t, testfixture.Files{
		"terraform/1.a/main.tf": "module \"m\" {\n  source = \"../../modules/shared\"\n}\n",
	})
	link(t, src, "modules/shared", outside)
	r := run(t, "validate", "--source", src, "--format", "json")
	assert.Equal(t, 3, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 1)
	for _, s := range []jsonStage{rep.Layers[0].Format, rep.Layers[0].Lint, rep.Layers[0].Validate} {
		assert.Equal(t, "error", s.Status, "%+v", s.Findings)
		require.Len(t, s.Findings, 1)
		assert.Contains(t, s.Findings[0].Message, "modules/shared -> "+outside)
	}
	assert.NotContains(t, r.stdout+r.stderr, toolchain.CacheDir())
	assert.Contains(t, r.stderr, "modules/shared, a symlink to "+outside+", outside the repository")
}
