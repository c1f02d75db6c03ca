package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/testfixture"
)

func TestAtlantisConfigWritesThenChecks(t *testing.T) {
	dir := t.TempDir()
	testfixture.Write(t, dir, testfixture.Tree(testfixture.Chain("base", "apps")...))

	r := run(t, "atlantis-config", "--check", "--source", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "atlantis.yaml is missing")

	r = run(t, "atlantis-config", "--source", dir)
	require.Equal(t, 0, r.code, r.stderr)
	written, err := os.ReadFile(filepath.Join(dir, "atlantis.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(written), "dir: terraform/2.apps")
	assert.Contains(t, string(written), "../../modules/marker/**/*")

	r = run(t, "atlantis-config", "--check", "--source", dir)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "matches the layers (2 projects)")

	// A new layer makes the committed file stale; --check leaves it as it was.
	testfixture.Write(t, dir, testfixture.Tree(testfixture.Chain("base", "apps", "data")...))
	r = run(t, "atlantis-config", "--check", "--source", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "out of date")
	after, err := os.ReadFile(filepath.Join(dir, "atlantis.yaml"))
	require.NoError(t, err)
	assert.Equal(t, written, after)
}

func TestAtlantisConfigRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"atlantis-config", "--source", filepath.Join(t.TempDir(), "missing")},
		{"atlantis-config", "--source", t.TempDir()}, // no layers directory
		{"atlantis-config", "--bogus"},
		{"atlantis-config", "extra"},
		{"atlantis-config", "--server", "--check"},
	} {
		r := run(t, args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		assert.NotEmpty(t, r.stderr)
	}
}

// --server prints the server-side repo config and writes nothing, whatever the
// repository holds.
func TestAtlantisConfigServerPrintsTheWorkflow(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "atlantis-config", "--server", "--source", dir)
	require.Equal(t, 0, r.code, r.stderr)
	want, err := atlantisyaml.ServerConfig()
	require.NoError(t, err)
	assert.Equal(t, string(want), r.stdout)
	assert.NoFileExists(t, filepath.Join(dir, "atlantis.yaml"))
}
