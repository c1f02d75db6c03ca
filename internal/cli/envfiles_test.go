package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/testfixture"
)

// The same code applied per environment with its own tfvars and backend key, as
// infra.hcl's environment blocks declare: each environment's state lands under
// its own key with its own variables, a shared layer is applied once, and a plan
// made for one environment is never applied to another.
func TestEnvironmentFilesReachPlanApplyAndDrift(t *testing.T) {
	testfixture.Tools(t, "tofu")
	s3 := testfixture.StartS3(t)
	src := repo(t, perEnvironment(testfixture.Files{
		// app reads network's state through var.state, which the layer model cannot
		// follow: depends_on says it.
		"infra.hcl": "engine = \"tofu\"\nlayers = [\"network\", \"app\"]\n\nlayer \"app\" {\n  depends_on = [\"network\"]\n}\n",
		"network/main.tf": `terraform {
  backend "s3" {
    key = "network.tfstate"
  }
}

variable "state" {
  type = any
}

output "name" {
  value = "net"
}
`,
		"app/main.tf": `terraform {
  backend "s3" {}
}

variable "state" {
  type = any
}

variable "replicas" {
  type = number
}

data "terraform_remote_state" "network" {
  backend = "s3"
  config  = merge(var.state, { key = "network.tfstate" })
}

output "replicas" {
  value = "${data.terraform_remote_state.network.outputs.name}:${var.replicas}"
}
`,
	}))
	backend, vars := runFiles(t, s3)
	common := []string{"--source", src, "--backend-config", backend, "--var-file", vars}

	r := run(t, append([]string{"apply"}, common...)...)
	assert.Equal(t, 2, r.code, "app differs by environment: %s", r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "pass --env")

	output := func(key string) string { return replicasIn(t, s3, key) }
	for name, want := range map[string]string{"staging": "net:1", "prod": "net:3"} {
		r = run(t, append([]string{"apply", "--env", name}, common...)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Equal(t, want, output(name+"/app.tfstate"), "environment %s's variables and backend key", name)
		assert.Less(t, strings.Index(r.stderr, "apply network: applied"), strings.Index(r.stderr, "apply app: started"), "app after the layer it reads")
	}
	_, err := os.Stat(filepath.Join(s3.Dir, s3.Bucket, "app.tfstate"))
	assert.True(t, os.IsNotExist(err), "no state outside the environments' keys")

	r = run(t, append([]string{"drift", "--env", "prod"}, common...)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "in sync")

	// A plan made for staging, applied as prod: refused before anything runs.
	plans := t.TempDir()
	r = run(t, append([]string{"plan", "--env", "staging", "--layer", "app", "--out", plans}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = run(t, append([]string{"apply", "--env", "prod", "--layer", "app", "--plans", plans}, common...)...)
	assert.NotEqual(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "made for environment staging, not for environment prod")
	r = run(t, append([]string{"apply", "--env", "staging", "--layer", "app", "--plans", plans}, common...)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, "net:1", output("staging/app.tfstate"))
}

// Comment mode on the same code per environment: a command names the
// environment (/plan --env staging), its plans are kept apart from another
// environment's, and /apply --env applies exactly that environment's plan to
// that environment's state.
func TestCommentCommandsTakeAnEnvironment(t *testing.T) {
	t.Setenv("INFRA_TESTDATA_DIR", githubtest.Dir())
	testfixture.Tools(t, "tofu")
	s3 := testfixture.StartS3(t)
	src := repo(t, perEnvironment(testfixture.Files{
		"infra.hcl": "engine = \"tofu\"\nlayers = [\"app\"]\n",
		"app/main.tf": `terraform {
  backend "s3" {}
}

variable "state" {
  type = any
}

variable "replicas" {
  type = number
}

resource "terraform_data" "replicas" {
  input = var.replicas
}

output "replicas" {
  value = terraform_data.replicas.output
}
`,
	}))
	backend, vars := runFiles(t, s3)
	c := commentRepoAt(t, src, backend, vars, s3, false)

	r := c.say(t, ghPR, "octocat", "OWNER", "/plan app")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "app differs by environment")
	assert.Contains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "pass --env", "refused with the reason, on the pull request")

	planIn := func(name string) {
		t.Helper()
		r := c.say(t, ghPR, "octocat", "OWNER", "/plan --env "+name+" app")
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Contains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "### infra plan")
		raw, err := os.ReadFile(filepath.Join(c.plans, "pr-7", "env-"+name, headSHA, "app.tfplan.json"))
		require.NoError(t, err, "%s's plan kept apart", name)
		assert.Contains(t, string(raw), `"env": "`+name+`"`)
	}
	replicas := func(name string) string { return replicasIn(t, s3, name+"/app.tfstate") }

	// Plans for one environment only: /apply finds which.
	planIn("staging")
	c.fake.AddReview(ghRepo, githubtest.Review{PR: ghPR, User: reviewer, State: "APPROVED", CommitID: headSHA})
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "applied")
	assert.Equal(t, "1", replicas("staging"), "staging's plan, with staging's variables and key")
	_, err := os.Stat(filepath.Join(s3.Dir, s3.Bucket, "prod", "app.tfstate"))
	assert.True(t, os.IsNotExist(err), "prod untouched: %v", err)

	// Plans for two: /apply never guesses.
	planIn("prod")
	planIn("staging")
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "has plans for staging and prod: comment `/apply --env NAME`")
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply --env prod")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "applied")
	assert.Equal(t, "3", replicas("prod"), "prod's plan, with prod's variables and key")
}

// replicasIn reads the replicas output of the state object at key.
func replicasIn(t *testing.T, s3 *testfixture.S3, key string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s3.Dir, s3.Bucket, filepath.FromSlash(key)))
	require.NoError(t, err, "state object %s", key)
	var st struct {
		Outputs map[string]struct {
			Value any `json:"value"`
		} `json:"outputs"`
	}
	require.NoError(t, json.Unmarshal(raw, &st))
	return fmt.Sprint(st.Outputs["replicas"].Value)
}

// runFiles writes the backend config and the var file a run on s3 is given:
// the server's settings, and its state settings as the layers' "state" variable.
func runFiles(t *testing.T, s3 *testfixture.S3) (backend, vars string) {
	t.Helper()
	dir := t.TempDir()
	backend = filepath.Join(dir, "backend.hcl")
	require.NoError(t, os.WriteFile(backend, []byte(s3.BackendConfig()), 0o600))
	data, err := json.Marshal(map[string]any{"state": s3.StateSettings()})
	require.NoError(t, err)
	vars = filepath.Join(dir, "vars.tfvars.json")
	require.NoError(t, os.WriteFile(vars, data, 0o600))
	return backend, vars
}

// perEnvironment adds two environments, staging and prod, to files: their
// blocks in infra.hcl and, in app/env/, each one's replicas and state key.
func perEnvironment(files testfixture.Files) testfixture.Files {
	for _, e := range []struct {
		name     string
		replicas int
	}{{"staging", 1}, {"prod", 3}} {
		name, replicas := e.name, e.replicas
		files["infra.hcl"] += fmt.Sprintf("\nenvironment %q {\n  var_files      = [\"env/%s.tfvars\"]\n  backend_config = \"env/%s.s3.hcl\"\n}\n", name, name, name)
		files["app/env/"+name+".tfvars"] = fmt.Sprintf("replicas = %d\n", replicas)
		files["app/env/"+name+".s3.hcl"] = fmt.Sprintf("key = %q\n", name+"/app.tfstate")
	}
	return files
}
