package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/testfixture"
)

// stateRepo is a two-layer repository with state on a fresh S3 server, and the
// backend config and var files a run needs.
func stateRepo(t *testing.T) (src, backend, vars string, s3 *testfixture.S3) {
	t.Helper()
	testfixture.Tools(t, "tofu")
	s3 = testfixture.StartS3(t)
	files := testfixture.StateTree(
		testfixture.StateLayer{Dir: "1.one"},
		testfixture.StateLayer{Dir: "2.two", DependsOn: []string{"1.one"}},
	)
	files["infra.hcl"] = "engine = \"tofu\"\n"
	src = repo(t, files)
	backend, vars = runFiles(t, s3)
	return src, backend, vars, s3
}

func TestPlanApplyDriftThroughTheCLI(t *testing.T) {
	src, backend, vars, s3 := stateRepo(t)
	plans := t.TempDir()
	common := []string{"--source", src, "--backend-config", backend, "--var-file", vars, "--sha", "abc123"}

	r := run(t, append([]string{"plan", "--layer", "1.one", "--out", plans, "--format", "json"}, common...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var planned struct {
		Op       string `json:"op"`
		ExitCode int    `json:"exit_code"`
		Layers   []struct {
			Name     string `json:"name"`
			Status   string `json:"status"`
			PlanHash string `json:"plan_sha256"`
			Plan     struct {
				Add       int `json:"add"`
				Resources []struct {
					Address string `json:"address"`
					Action  string `json:"action"`
				} `json:"resources"`
			} `json:"plan"`
		} `json:"layers"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &planned), r.stdout)
	require.Len(t, planned.Layers, 1)
	assert.Equal(t, "planned", planned.Layers[0].Status)
	assert.Equal(t, 1, planned.Layers[0].Plan.Add)
	assert.Equal(t, "null_resource.this", planned.Layers[0].Plan.Resources[0].Address)
	assert.FileExists(t, filepath.Join(plans, "1.one.tfplan"))
	assert.Contains(t, r.stderr, "plan 1.one: started")

	r = run(t, append([]string{"apply", "--layer", "1.one", "--plans", plans}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, planned.Layers[0].PlanHash)
	assert.Contains(t, r.stderr, "apply 1.one: started")
	assert.Contains(t, r.stderr, "apply 1.one: applied")

	// The rest of the tree, directly; then nothing has drifted.
	r = run(t, append([]string{"apply", "--layer", "all"}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "apply: 2 applied")
	r = run(t, append([]string{"drift", "--format", "markdown"}, common...)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "| **L2** Two | ✅ in sync |")

	// Drift keeps an issue per drifted layer: the code moves on without an apply.
	fake := githubtest.New(t)
	fake.Repo("octo/infra")
	fake.Token("ghs_drift", githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	t.Setenv("GITHUB_TOKEN", "ghs_drift")
	issueArgs := append([]string{"drift", "--issues", "--repo", "octo/infra", "--api-url", fake.Start(),
		"--run-url", "https://github.com/octo/infra/actions/runs/7"}, common[:len(common)-2]...)
	testfixture.Write(t, src, testfixture.Files{"terraform/2.two/more.tf": "resource \"null_resource\" \"more\" {}\n"})
	r = run(t, issueArgs...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "drift issue of 2.two: created")
	issues := fake.Issues("octo/infra")
	require.Len(t, issues, 1)
	assert.Equal(t, "Drift in L2 Two (2.two)", issues[0].Title)
	assert.Contains(t, issues[0].Body, "null_resource.more")

	r = run(t, append([]string{"apply"}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = run(t, issueArgs...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "drift issue of 2.two: closed")
	assert.Equal(t, "closed", fake.Issues("octo/infra")[0].State)

	// The credentials appear nowhere, not even in the engine's own files.
	for _, out := range []string{r.stdout, r.stderr} {
		assert.NotContains(t, out, s3.Secret)
	}
	cache := os.Getenv("INFRA_CACHE_DIR")
	require.NoError(t, filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Mode()&os.ModeType != 0 || info.Size() > 1<<20 {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), s3.Secret) {
			t.Errorf("%s holds the secret key", p)
		}
		return nil
	}))
}

func TestApplyCommandsRejectBadInputBeforeRunning(t *testing.T) {
	src := repo(t, threeLayers())
	for name, args := range map[string][]string{
		"format":               {"plan", "--format", "yaml"},
		"positional":           {"apply", "now"},
		"positional before --": {"apply", "now", "--", "-destroy"},
		"plans not a dir":      {"apply", "--plans", filepath.Join(src, "nope")},
		"extra not a flag":     {"apply", "--", "destroy"},
		"extra set by infra":   {"apply", "--", "-auto-approve"},
		"plans and extra":      {"apply", "--plans", src, "--", "-destroy"},
		"unlock without id":    {"unlock", "--layer", "bootstrap"},
		"unlock two layers":    {"unlock", "--layer", "bootstrap,platform", "--lock-id", "x"},
		"unlock flag as id":    {"unlock", "--layer", "bootstrap", "--lock-id", "-force"},
		"backend missing":      {"drift", "--backend-config", filepath.Join(src, "nope.hcl")},
		"var file missing":     {"plan", "--var-file", filepath.Join(src, "nope.tfvars")},
		"sha":                  {"plan", "--sha", "--help me"},
		"lock timeout":         {"apply", "--lock-timeout", "soon"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, append(args, "--source", src)...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.NotEmpty(t, r.stderr)
		})
	}
}

func TestBackendConfigErrorsNeverQuoteIt(t *testing.T) {
	src := repo(t, threeLayers())
	bad := filepath.Join(t.TempDir(), "backend.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("access_key = \"AKIDCANARY\"\nsecret_key = canary-secret oops\n"), 0o600))
	r := run(t, "plan", "--source", src, "--backend-config", bad)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "backend config line 2")
	assert.NotContains(t, r.stderr, "canary")
	assert.NotContains(t, r.stderr, "AKIDCANARY")
}
