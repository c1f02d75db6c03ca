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

	"github.com/infra-flash/infra/internal/testfixture"
)

// varFile writes a .tfvars.json file with vals and returns its path.
func varFile(t *testing.T, vals map[string]any) string {
	t.Helper()
	data, err := json.Marshal(vals)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "vars.tfvars.json")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// A layer keeping its state in a local file at a relative path, reading a file
// next to it and writing one: everything lands where a plain apply in the
// layer's directory puts it, and stays there for the next run.
func TestLocalStateWithRelativePathsStaysWhereTheEngineWritesIt(t *testing.T) {
	testfixture.Tools(t, "tofu")
	src := repo(t, testfixture.Files{
		"infra.hcl": "engine = \"tofu\"\n",
		"terraform/1.app/main.tf": `terraform {
  backend "local" {
    path = "../../state/app.tfstate"
  }
  required_providers {
    local = {
      source = "hashicorp/local"
    }
  }
}

resource "terraform_data" "greeting" {
  input = trimspace(file("greeting.txt"))
}

resource "local_file" "out" {
  filename = "out/generated.txt"
  content  = terraform_data.greeting.output
}

output "greeting" {
  value = terraform_data.greeting.output
}
`,
		"terraform/1.app/greeting.txt": "hello\n",
	})
	layerDir := filepath.Join(src, "terraform", "1.app")

	r := run(t, "apply", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.FileExists(t, filepath.Join(src, "state", "app.tfstate"), "where tofu apply in the layer directory puts it")
	out, err := os.ReadFile(filepath.Join(layerDir, "out", "generated.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(out))
	assert.NoDirExists(t, filepath.Join(layerDir, ".terraform"), "the engine's data directory stays in the cache")
	assert.NoFileExists(t, filepath.Join(layerDir, "terraform.tfstate"))

	r = run(t, "drift", "--source", src)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "in sync")

	r = run(t, "apply", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var rep struct {
		Layers []struct {
			Status  string                     `json:"status"`
			Applied map[string]json.RawMessage `json:"applied"`
		} `json:"layers"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	require.Len(t, rep.Layers, 1)
	assert.Equal(t, "applied", rep.Layers[0].Status)
	for _, k := range []string{"resources", "outputs", "drift"} {
		assert.Equal(t, "[]", string(rep.Layers[0].Applied[k]), "applied.%s of a no-op apply", k)
	}
	assert.Equal(t, "0", string(rep.Layers[0].Applied["add"]), "the second apply changes nothing")
}

// A sensitive variable changes between apply and plan; a sensitive output and a
// resource copying the variable into a plain attribute carry it. No value it
// ever had appears in any output of any command, in any format, nor in the
// saved plans' reports.
func TestSensitiveValuesOldAndNewNeverAppear(t *testing.T) {
	testfixture.Tools(t, "tofu")
	src := repo(t, testfixture.Files{
		"infra.hcl": "engine = \"tofu\"\n",
		"terraform/1.app/main.tf": `terraform {
  backend "local" {}
}

variable "secret" {
  type      = string
  sensitive = true
}

resource "terraform_data" "this" {
  input = var.secret
}

output "secret" {
  value     = var.secret
  sensitive = true
}
`,
	})
	n := 0
	secret := func() string {
		n++
		return varFile(t, map[string]any{"secret": fmt.Sprintf("CANARY-%d-7f3a9c0e", n)})
	}
	clean := func(what string, r result) {
		t.Helper()
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			assert.NotContains(t, out, "CANARY", "%s %s", what, name)
		}
	}
	base := []string{"--source", src}

	r := run(t, append([]string{"apply", "--var-file", secret()}, base...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	clean("apply", r)
	for _, format := range []string{"text", "markdown", "json"} {
		plans := t.TempDir()
		changed := secret()
		r = run(t, append([]string{"plan", "--var-file", changed, "--out", plans, "--format", format}, base...)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stdout, "terraform_data.this")
		clean("plan --format "+format, r)
		entries, err := os.ReadDir(plans)
		require.NoError(t, err)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tfplan") {
				continue // a plan file holds the variables by the engine's design
			}
			data, err := os.ReadFile(filepath.Join(plans, e.Name()))
			require.NoError(t, err)
			assert.NotContains(t, string(data), "CANARY", e.Name())
		}

		r = run(t, append([]string{"drift", "--var-file", changed, "--format", format}, base...)...)
		assert.Equal(t, 1, r.code, r.stdout+r.stderr)
		clean("drift --format "+format, r)

		// The saved plan is applied without the var file: the re-plan takes the
		// plan's own variables.
		r = run(t, append([]string{"apply", "--plans", plans, "--format", format}, base...)...)
		assert.Equal(t, 0, r.code, r.stdout+r.stderr)
		clean("apply --plans --format "+format, r)

		r = run(t, append([]string{"apply", "--var-file", secret(), "--format", format}, base...)...)
		assert.Equal(t, 0, r.code, r.stdout+r.stderr)
		clean("apply --format "+format, r)
	}
}

// The state backend dies in the middle of an apply: the run says the backend
// could not be reached, names the file where the engine saved what it applied,
// and no later run deletes it or applies over it.
func TestBackendKilledMidApplyKeepsWhatWasApplied(t *testing.T) {
	testfixture.Tools(t, "tofu")
	s3 := testfixture.StartS3(t)
	src := repo(t, testfixture.Files{
		"infra.hcl": "engine = \"tofu\"\n",
		"terraform/1.app/main.tf": `terraform {
  backend "s3" {
    key         = "1.app/terraform.tfstate"
    max_retries = 1 # a dead server is not retried for half a minute
  }
}

variable "pid" {
  type = number
}

resource "terraform_data" "first" {
  input = "applied before the backend died"
}

resource "terraform_data" "kill" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "kill ${var.pid}"
  }
}
`,
	})
	backend := filepath.Join(t.TempDir(), "backend.hcl")
	require.NoError(t, os.WriteFile(backend, []byte(s3.BackendConfig()), 0o600))
	common := []string{"--source", src, "--backend-config", backend, "--var-file", varFile(t, map[string]any{"pid": s3.PID()})}
	errored := filepath.Join(src, "terraform", "1.app", "errored.tfstate")

	r := run(t, append([]string{"apply", "--format", "json"}, common...)...)
	assert.Equal(t, 3, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"saved_state": "terraform/1.app/errored.tfstate"`)
	assert.Contains(t, r.stdout, "is in terraform/1.app/errored.tfstate")
	data, err := os.ReadFile(errored)
	require.NoError(t, err, "the engine's record of what it applied")
	assert.Contains(t, string(data), "applied before the backend died")

	// The backend is still down; the layer's data directory is warm, so no init
	// runs to notice: the plan itself cannot reach the state.
	r = run(t, append([]string{"drift"}, common...)...)
	assert.Equal(t, 3, r.code, r.stdout+r.stderr)
	assert.FileExists(t, errored)

	s3.Restart(t)
	r = run(t, append([]string{"apply"}, common...)...)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "terraform/1.app/errored.tfstate holds state")
	assert.FileExists(t, errored)

	// A plan from the backend's state, which lacks what the file holds, would plan
	// it again: refused. Drift names the file whatever else it finds (here the
	// lock the dead apply could not release).
	r = run(t, append([]string{"plan"}, common...)...)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "terraform/1.app/errored.tfstate holds state")
	r = run(t, append([]string{"drift", "--format", "json"}, common...)...)
	assert.NotEqual(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"saved_state": "terraform/1.app/errored.tfstate"`)
	assert.Contains(t, r.stdout, "terraform/1.app/errored.tfstate holds resources an earlier apply could not save")
	after, err := os.ReadFile(errored)
	require.NoError(t, err)
	assert.Equal(t, data, after)
}

// On an empty environment, a layer reading another's state cannot be planned
// before that one is applied: the plan says it waits instead of failing.
func TestPlanOfADependentLayerWaitsForItsUpstreamToBeApplied(t *testing.T) {
	src, backend, vars, _ := stateRepo(t)
	r := run(t, "plan", "--source", src, "--backend-config", backend, "--var-file", vars, "--layer", "all")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "plan: 1 planned, 1 waiting")
	assert.Contains(t, r.stdout, "waits for 1.one to be applied")
}

// Bad options are bad input before anything is looked up: a missing engine
// does not hide them.
func TestNegativeLockTimeoutIsBadInputWithoutTools(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv("INFRA_TOFU_BIN", missing)
	t.Setenv("INFRA_TERRAFORM_BIN", missing)
	src := repo(t, threeLayers())
	for _, cmd := range []string{"plan", "apply", "drift"} {
		r := run(t, cmd, "--source", src, "--lock-timeout", "-5s")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "lock timeout cannot be negative")
	}
}
