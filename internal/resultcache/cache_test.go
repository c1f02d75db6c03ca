package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/stage"
)

func keyOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestStoredResultsRoundTrip(t *testing.T) {
	c, err := Open(t.TempDir(), Env{}, Options{})
	require.NoError(t, err)
	res := stage.Result{Status: stage.Fail, Findings: []stage.Finding{{File: "terraform/1.a/main.tf", Line: 3, Message: "x", Detail: "@@ -1 +1 @@"}}}
	k := keyOf("a")
	_, ok := c.load(k)
	assert.False(t, ok)
	require.NoError(t, c.store(k, stage.Format, stage.Target{Path: "terraform/1.a"}, res))
	got, ok := c.load(k)
	require.True(t, ok)
	assert.Equal(t, res.Status, got.Status)
	assert.Equal(t, res.Findings, got.Findings)
	_, ok = c.load(keyOf("b"))
	assert.False(t, ok)
}

func TestTrimDropsTheLeastRecentlyUsedFirst(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Env{}, Options{})
	require.NoError(t, err)
	big := stage.Result{Status: stage.Pass, Findings: []stage.Finding{{Message: strings.Repeat("x", 200)}}}
	require.NoError(t, c.store(keyOf("probe"), stage.Lint, stage.Target{Path: "l"}, big))
	st, err := os.Stat(EntryPath(dir, keyOf("probe")))
	require.NoError(t, err)
	require.NoError(t, os.Remove(EntryPath(dir, keyOf("probe"))))
	// Trimmed to three entries; the margin absorbs the creation time's varying
	// length (RFC 3339 drops trailing zeros of the nanoseconds).
	c.max = (st.Size() + 16) * 4
	var keys []string
	for i := range 8 {
		k := keyOf(string(rune('a' + i)))
		keys = append(keys, k)
		require.NoError(t, c.store(k, stage.Lint, stage.Target{Path: "l"}, big))
		old := time.Now().Add(time.Duration(i-100) * time.Minute)
		require.NoError(t, os.Chtimes(EntryPath(dir, k), old, old))
	}
	_, ok := c.load(keys[0]) // used just now: the newest
	require.True(t, ok)
	c.stored.Store(true)
	require.NoError(t, c.Close())

	var total int64
	kept := map[string]bool{}
	for _, k := range keys {
		if st, err := os.Stat(EntryPath(dir, k)); err == nil {
			total += st.Size()
			kept[k] = true
		}
	}
	assert.LessOrEqual(t, total, c.max*3/4, "trimmed to three quarters of the bound")
	assert.Len(t, kept, 3)
	assert.True(t, kept[keys[0]], "the entry just used stays")
	assert.True(t, kept[keys[7]], "the newest stays")
	assert.False(t, kept[keys[1]], "the oldest unused goes first")
}

func TestCloseWithoutStoringLeavesTheCacheAlone(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, Env{}, Options{MaxBytes: 1})
	require.NoError(t, err)
	require.NoError(t, c.store(keyOf("a"), stage.Lint, stage.Target{Path: "l"}, stage.Result{Status: stage.Pass}))
	require.NoError(t, c.Close())
	assert.FileExists(t, EntryPath(dir, keyOf("a")), "a run that stored nothing does not pay for a trim")
}

func TestStaticPrefix(t *testing.T) {
	for pattern, want := range map[string]string{
		"terraform/1.a":           "terraform/1.a",
		"terraform/1.a/**/*.tf":   "terraform/1.a",
		".tflint.hcl":             ".tflint.hcl",
		"**/*.tf":                 ".",
		"**":                      ".",
		"modules/a[bc]/main.tf":   "modules",
		"modules/x/sub/file?.hcl": "modules/x/sub",
	} {
		assert.Equal(t, want, staticPrefix(pattern), pattern)
	}
}

func TestToolVariablesLeaveOutSecretsAndLocations(t *testing.T) {
	engine, tflint := toolVariables([]string{
		"PATH=/bin", "TF_CLI_CONFIG_FILE=/x/cli.tfrc", "TF_IN_AUTOMATION=1", "TF_TOKEN_app_terraform_io=secret",
		"TF_VAR_password=secret", "TF_LOG=trace", "TF_PLUGIN_CACHE_DIR=/tmp/p", "TF_REGISTRY_CLIENT_TIMEOUT=30",
		"TFLINT_LOG=debug", "TFLINT_CONFIG_FILE=/x/.tflint.hcl", "TOFU_REGISTRY_HOST=r",
	})
	assert.Equal(t, "TF_IN_AUTOMATION=1\x00TF_REGISTRY_CLIENT_TIMEOUT=30\x00TOFU_REGISTRY_HOST=r", engine)
	assert.Equal(t, "TFLINT_CONFIG_FILE=/x/.tflint.hcl", tflint)
}

func TestBinaryDigestFollowsTheContent(t *testing.T) {
	c, err := Open(t.TempDir(), Env{}, Options{})
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "tool")
	require.NoError(t, os.WriteFile(bin, []byte("version 1"), 0o755))
	d1, err := c.binaryDigest(bin)
	require.NoError(t, err)
	again, err := c.binaryDigest(bin)
	require.NoError(t, err)
	assert.Equal(t, d1, again)

	require.NoError(t, os.WriteFile(bin, []byte("version 2!"), 0o755))
	d2, err := c.binaryDigest(bin)
	require.NoError(t, err)
	assert.NotEqual(t, d1, d2, "a rebuilt tool is another tool")
}

func TestInputFilesListsWhatTheFilterSelects(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"terraform/1.a/main.tf", "terraform/1.a/.terraform/modules/modules.json", "terraform/1.a/notes.md",
		"terraform/1.ab/main.tf", "modules/m/main.tf", "README.md"} {
		p := filepath.Join(root, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(f), 0o644))
	}
	files, err := inputFiles(root, stage.Inputs(stage.Validate, stage.Target{Path: "terraform/1.a", Modules: []string{"modules/m", "modules/gone"}}))
	require.NoError(t, err)
	assert.Equal(t, []string{"modules/m/main.tf", "terraform/1.a/main.tf", "terraform/1.a/notes.md"}, files)
	files, err = inputFiles(root, stage.Inputs(stage.Format, stage.Target{Path: "terraform/1.a"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"terraform/1.a/main.tf"}, files)
}

// writeTree writes files (path -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for f, content := range files {
		p := filepath.Join(root, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func TestKeyFollowsALayerDirectoryThatIsASymlink(t *testing.T) {
	c, err := Open(t.TempDir(), Env{}, Options{})
	require.NoError(t, err)
	repo := func(content string) string {
		root := t.TempDir()
		writeTree(t, root, map[string]string{"real/a/main.tf": content, "real/mod/main.tf": "# m\n"})
		require.NoError(t, os.MkdirAll(filepath.Join(root, "layers"), 0o755))
		require.NoError(t, os.Symlink("../real/a", filepath.Join(root, "layers", "1.a")))
		require.NoError(t, os.Symlink("../real/mod", filepath.Join(root, "layers", "mod")))
		return root
	}
	target := stage.Target{Path: "layers/1.a", Modules: []string{"layers/mod"}}
	for _, kind := range stage.Kinds {
		files, err := inputFiles(repo("x"), stage.Inputs(kind, target))
		require.NoError(t, err)
		assert.Contains(t, files, "layers/1.a/main.tf", kind)
		assert.Contains(t, files, "layers/mod/main.tf", kind)
	}

	root := repo("resource \"null_resource\" \"a\" {}\n")
	before, err := c.key(stage.Format, root, target)
	require.NoError(t, err)
	f, err := os.OpenFile(filepath.Join(root, "real", "a", "main.tf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("resource \"null_resource\" \"b\" {\n}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	fresh, err := Open(t.TempDir(), Env{}, Options{}) // a new run: no memoised digests
	require.NoError(t, err)
	after, err := fresh.key(stage.Format, root, target)
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "an edit behind the link is a change")

	other, err := Open(t.TempDir(), Env{}, Options{})
	require.NoError(t, err)
	elsewhere, err := other.key(stage.Format, repo("something else\n"), target)
	require.NoError(t, err)
	assert.NotEqual(t, before, elsewhere, "another repository's layer of the same name is another result")
}

func TestInputFilesStopsAtALinkCycle(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"terraform/1.a/main.tf": "x"})
	require.NoError(t, os.Symlink("..", filepath.Join(root, "terraform", "1.a", "loop")))
	files, err := inputFiles(root, stage.Inputs(stage.Validate, stage.Target{Path: "terraform/1.a"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"terraform/1.a/main.tf"}, files)
}
