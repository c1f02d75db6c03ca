package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// workspaceFile is a file of the run's workspace copy (there is one repository per test).
func workspaceFile(t *testing.T, rel string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(toolchain.CacheDir(), "work", "*", filepath.FromSlash(rel)))
	require.NoError(t, err)
	if len(matches) == 0 {
		return ""
	}
	require.Len(t, matches, 1)
	b, err := os.ReadFile(matches[0])
	require.NoError(t, err)
	return string(b)
}

func TestALockFileDeletedFromTheSourceLeavesTheWorkspace(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Tree(testfixture.Chain("a")...))
	// A lock file for the providers this machine has, as init writes it.
	r := run(t, "validate", "--source", src, "--quiet")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	made := workspaceFile(t, "terraform/1.a/.terraform.lock.hcl")
	require.NotEmpty(t, made)
	lock := filepath.Join(src, "terraform/1.a/.terraform.lock.hcl")
	require.NoError(t, os.WriteFile(lock, []byte("# committed\n"+made), 0o644))

	r = run(t, "validate", "--source", src, "--quiet")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Contains(t, workspaceFile(t, "terraform/1.a/.terraform.lock.hcl"), "# committed")

	require.NoError(t, os.Remove(lock))
	r = run(t, "validate", "--source", src, "--quiet")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.NotContains(t, workspaceFile(t, "terraform/1.a/.terraform.lock.hcl"), "# committed",
		"the deleted lock file is gone; init made a new one")
}

func TestSymlinkedLayersAndDirectoriesThatAreNotLayers(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := testfixture.Tree(testfixture.Chain("a", "b")...)
	// stacks/c is layer 3, reached through a symlink in terraform/.
	for name, content := range testfixture.Tree(testfixture.Layer{Dir: "3.c", DependsOn: []string{"2.b"}}) {
		if filepath.Dir(filepath.Dir(name)) == "terraform" {
			files["stacks/c/"+filepath.Base(name)] = content
		}
	}
	files["terraform/4.notes/README.md"] = "no terraform here"
	src := repo(t, files)
	require.NoError(t, os.Symlink("../stacks/c", filepath.Join(src, "terraform/3.c")))
	elsewhere := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(elsewhere, "x.tf"), nil, 0o644))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(src, "terraform/5.elsewhere")))
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "x.tf"), filepath.Join(src, "terraform/1.a/x.tf")))

	r := run(t, "layers", "--source", src)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "3. L3   3.c              terraform/3.c                depends on: 2.b")
	assert.Contains(t, r.stderr, "infra: terraform/4.notes is not a layer: no .tf or .tf.json files")
	assert.Contains(t, r.stderr, "infra: terraform/5.elsewhere is not a layer: a symlink to "+elsewhere+", outside the repository")

	r = run(t, "layers", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var listed struct {
		NotLayers []struct{ Path, Reason string } `json:"not_layers"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &listed))
	require.Len(t, listed.NotLayers, 2)
	assert.Equal(t, "terraform/4.notes", listed.NotLayers[0].Path)

	r = run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 3)
	assert.Equal(t, "3.c", rep.Layers[2].Name)
	assert.Equal(t, "pass", rep.Layers[2].Validate.Status)
	assert.Contains(t, r.stderr, "infra: warning: terraform/1.a/x.tf is a symlink to "+filepath.Join(elsewhere, "x.tf")+", outside the repository; the checks do not see it")
}

func TestTwoLayersWithOneStateAreBadInput(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := testfixture.Tree(testfixture.Chain("a", "b", "c")...)
	files["terraform/3.c/versions.tf"] = files["terraform/2.b/versions.tf"]
	src := repo(t, files)
	r := run(t, "validate", "--source", src)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `layers terraform/2.b and terraform/3.c keep their state in the same place (s3 backend, bucket "state", key "2.b/terraform.tfstate")`)
	assert.Empty(t, r.stdout)
}
