package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
)

// The same code applied per environment with its own tfvars and backend key, as
// infra.hcl's environment blocks declare: each environment's state lands under
// its own key with its own variables, a shared layer is applied once, and a plan
// made for one environment is never applied to another.
func TestEnvironmentFilesReachPlanApplyAndDrift(t *testing.T) {
	testfixture.Tools(t, "tofu")
	s3 := testfixture.StartS3(t)
	env := func(name string) string {
		return `environment "` + name + `" {
  var_files      = ["env/` + name + `.tfvars"]
  backend_config = "env/` + name + `.s3.hcl"
}
`
	}
	src := repo(t, testfixture.Files{
		// app reads network's state through var.state, which the layer model cannot
		// follow: depends_on says it.
		"infra.hcl": "engine = \"tofu\"\nlayers = [\"network\", \"app\"]\n\nlayer \"app\" {\n  depends_on = [\"network\"]\n}\n\n" + env("staging") + "\n" + env("prod"),
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
		"app/env/staging.tfvars": "replicas = 1\n",
		"app/env/prod.tfvars":    "replicas = 3\n",
		"app/env/staging.s3.hcl": "key = \"staging/app.tfstate\"\n",
		"app/env/prod.s3.hcl":    "key = \"prod/app.tfstate\"\n",
	})
	dir := t.TempDir()
	backend := filepath.Join(dir, "backend.hcl")
	require.NoError(t, os.WriteFile(backend, []byte(s3.BackendConfig()), 0o600))
	data, err := json.Marshal(map[string]any{"state": s3.StateSettings()})
	require.NoError(t, err)
	vars := filepath.Join(dir, "vars.tfvars.json")
	require.NoError(t, os.WriteFile(vars, data, 0o600))
	common := []string{"--source", src, "--backend-config", backend, "--var-file", vars}

	r := run(t, append([]string{"apply"}, common...)...)
	assert.Equal(t, 2, r.code, "app differs by environment: %s", r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "pass --env")

	output := func(key string) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(s3.Dir, s3.Bucket, filepath.FromSlash(key)))
		require.NoError(t, err, "state object %s", key)
		var st struct {
			Outputs map[string]struct {
				Value any `json:"value"`
			} `json:"outputs"`
		}
		require.NoError(t, json.Unmarshal(raw, &st))
		return st.Outputs["replicas"].Value.(string)
	}
	for name, want := range map[string]string{"staging": "net:1", "prod": "net:3"} {
		r = run(t, append([]string{"apply", "--env", name}, common...)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Equal(t, want, output(name+"/app.tfstate"), "environment %s's variables and backend key", name)
		assert.Less(t, strings.Index(r.stderr, "apply network: applied"), strings.Index(r.stderr, "apply app: started"), "app after the layer it reads")
	}
	_, err = os.Stat(filepath.Join(s3.Dir, s3.Bucket, "app.tfstate"))
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
