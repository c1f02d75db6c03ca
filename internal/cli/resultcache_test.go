package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

type cachedStage struct {
	Status string `json:"status"`
	Cached *bool  `json:"cached"`
}

type cachedReport struct {
	Layers []struct {
		Name     string      `json:"name"`
		Format   cachedStage `json:"format"`
		Lint     cachedStage `json:"lint"`
		Validate cachedStage `json:"validate"`
	} `json:"layers"`
}

// computed lists the "layer/stage" results a run computed rather than reused,
// after checking that every stage ran (or was reused) with the status want.
func computed(t *testing.T, r result, want string) []string {
	t.Helper()
	var rep cachedReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	out := []string{}
	for _, l := range rep.Layers {
		for name, st := range map[string]cachedStage{"format": l.Format, "lint": l.Lint, "validate": l.Validate} {
			if st.Status == "skip" {
				continue
			}
			assert.Equal(t, want, st.Status, "%s %s\n%s", l.Name, name, r.stdout)
			require.NotNil(t, st.Cached, "every stage says whether it was cached")
			if !*st.Cached {
				out = append(out, l.Name+"/"+name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// twoLayers: 2.app reads 1.base; both call modules/marker, only 2.app calls
// modules/extra.
func twoLayers() testfixture.Files {
	files := testfixture.Tree(testfixture.Chain("base", "app")...)
	files["terraform/2.app/extra.tf"] = "module \"extra\" {\n  source = \"../../modules/extra\"\n}\n"
	files["modules/extra/main.tf"] = "terraform {\n  required_version = \">= 1.5.0\"\n}\n\noutput \"greeting\" {\n  description = \"A constant.\"\n  value       = \"hello\"\n}\n"
	return files
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, text...), 0o644))
}

var (
	everything = []string{"1.base/format", "1.base/lint", "1.base/validate", "2.app/format", "2.app/lint", "2.app/validate"}
	appOnly    = []string{"2.app/format", "2.app/lint", "2.app/validate"}
	lintOnly   = []string{"1.base/lint", "2.app/lint"}
)

func TestResultCacheRecomputesWhatAChangeAffectsAndNothingElse(t *testing.T) {
	tofu, err := toolchain.Find("tofu") // before Tools points the cache elsewhere
	require.NoError(t, err, "scripts/test installs the tools before running the tests")
	tools := testfixture.Tools(t, "terraform")
	src := repo(t, twoLayers())
	validate := func(extra ...string) result {
		return run(t, append([]string{"validate", "--source", src, "--format", "json"}, extra...)...)
	}

	r := validate()
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, everything, computed(t, r, "pass"), "a cold cache computes everything")

	r = validate()
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, computed(t, r, "pass"), "nothing changed: everything is reused")
	assert.Contains(t, r.stderr, "(cached)")

	appendTo(t, filepath.Join(src, "terraform/2.app/main.tf"), "\n# a layer file changes\n")
	assert.Equal(t, appOnly, computed(t, validate(), "pass"), "a layer file: that layer")

	appendTo(t, filepath.Join(src, "modules/extra/main.tf"), "\n# a module only 2.app calls\n")
	assert.Equal(t, appOnly, computed(t, validate(), "pass"), "a module: the layers that call it")

	appendTo(t, filepath.Join(src, "modules/marker/main.tf"), "\n# a module both call\n")
	assert.Equal(t, everything, computed(t, validate(), "pass"))

	require.NoError(t, os.WriteFile(filepath.Join(src, ".tflint.hcl"), []byte("plugin \"terraform\" {\n  enabled = true\n  preset  = \"recommended\"\n}\n"), 0o644))
	assert.Equal(t, lintOnly, computed(t, validate(), "pass"), "a lint config appears: lint")
	appendTo(t, filepath.Join(src, ".tflint.hcl"), "# the lint config changes\n")
	assert.Equal(t, lintOnly, computed(t, validate(), "pass"), "the lint config changes: lint")

	// Another engine: format and validate, while lint is still reused.
	t.Setenv("INFRA_TOFU_BIN", tofu.Engine)
	r = validate("--engine", "tofu")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"1.base/format", "1.base/validate", "2.app/format", "2.app/validate"}, computed(t, r, "pass"), "another engine")

	// The lock file: commit the one terraform's init made, then change it.
	made, err := filepath.Glob(filepath.Join(os.Getenv("INFRA_CACHE_DIR"), "work", "*", "terraform", "1.base", ".terraform.lock.hcl"))
	require.NoError(t, err)
	var lock []byte
	for _, m := range made {
		if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), "registry.terraform.io/") {
			lock = b
		}
	}
	require.NotEmpty(t, lock, "terraform's workspace has a lock file: %v", made)
	require.NoError(t, os.WriteFile(filepath.Join(src, "terraform/1.base/.terraform.lock.hcl"), lock, 0o644))
	assert.Equal(t, []string{"1.base/validate"}, computed(t, validate(), "pass"), "a lock file is committed: validate")
	appendTo(t, filepath.Join(src, "terraform/1.base/.terraform.lock.hcl"), "# the lock file changes\n")
	assert.Equal(t, []string{"1.base/validate"}, computed(t, validate(), "pass"), "the lock file changes: validate")

	// Another tflint (here the same one behind a wrapper): lint.
	wrapper := filepath.Join(t.TempDir(), "tflint")
	require.NoError(t, os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+tools.TFLint+" \"$@\"\n"), 0o755))
	t.Setenv("INFRA_TFLINT_BIN", wrapper)
	assert.Equal(t, lintOnly, computed(t, validate(), "pass"), "another tflint: lint")

	r = validate("--no-cache")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, everything, computed(t, r, "pass"), "--no-cache computes everything")
	assert.Empty(t, computed(t, validate(), "pass"), "and keeps the fresh results")
}

func TestResultThatCouldNotRunIsNeverReused(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Tree(testfixture.Chain("base")...))
	counter := filepath.Join(t.TempDir(), "runs")
	broken := filepath.Join(t.TempDir(), "tflint")
	require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\necho ran >> "+counter+"\necho 'not what tflint says'\nexit 1\n"), 0o755))
	t.Setenv("INFRA_TFLINT_BIN", broken)
	runs := func() int {
		b, _ := os.ReadFile(counter)
		return strings.Count(string(b), "ran")
	}

	r := run(t, "lint", "--source", src, "--format", "json")
	require.Equal(t, 3, r.code, r.stderr)
	assert.Equal(t, []string{"1.base/lint"}, computed(t, r, "error"))
	first := runs()
	require.Positive(t, first)

	r = run(t, "lint", "--source", src, "--format", "json")
	require.Equal(t, 3, r.code, r.stderr)
	assert.Equal(t, []string{"1.base/lint"}, computed(t, r, "error"), "an error is computed again")
	assert.Equal(t, 2*first, runs(), "tflint ran again")
}

func TestResultCacheOfAnOlderFormatIsIgnored(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Tree(testfixture.Chain("base")...))
	r := run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)

	results := filepath.Join(os.Getenv("INFRA_CACHE_DIR"), "results")
	entries, err := filepath.Glob(filepath.Join(results, "v*", "??", "*.json"))
	require.NoError(t, err)
	require.Len(t, entries, 3)
	// Entries at the current keys, written by an older version (another layout of
	// the same data) or cut short, and a directory of an older format.
	require.NoError(t, os.WriteFile(entries[0], []byte(`{"version":0,"status":"pass"}`), 0o644))
	require.NoError(t, os.WriteFile(entries[1], []byte(`{"version":1,"status":"pa`), 0o644))
	require.NoError(t, os.WriteFile(entries[2], []byte(`["pass"]`), 0o644))
	old := filepath.Join(results, "v0", "ab", "abcd.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(old), 0o755))
	require.NoError(t, os.WriteFile(old, []byte("old"), 0o644))

	r = run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"1.base/format", "1.base/lint", "1.base/validate"}, computed(t, r, "pass"))
	assert.NoDirExists(t, filepath.Join(results, "v0"), "another format's entries are removed")

	r = run(t, "validate", "--source", src, "--format", "json")
	assert.Empty(t, computed(t, r, "pass"), "the rewritten entries are reused")
}

func TestConcurrentRunsShareTheResultCache(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := twoLayers()
	// Two checkouts of one repository (as two worktrees) and the same cache.
	a, b := repo(t, files), repo(t, files)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i, src := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run(t, "validate", "--source", src, "--format", "json", "--quiet")
		}()
	}
	wg.Wait()
	for _, r := range results {
		require.Equal(t, 0, r.code, r.stderr)
		computed(t, r, "pass")
	}
	entries, err := filepath.Glob(filepath.Join(os.Getenv("INFRA_CACHE_DIR"), "results", "v*", "??", "*"))
	require.NoError(t, err)
	assert.Len(t, entries, len(everything), "one entry per result, no temporary file left")
	for _, e := range entries {
		var v map[string]any
		b, err := os.ReadFile(e)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &v), "%s is whole", e)
	}
	r := run(t, "validate", "--source", repo(t, files), "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, computed(t, r, "pass"), "a third checkout reuses everything")
}
