package workflowcheck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/workflowcheck"
)

type wfStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

var stepOutput = regexp.MustCompile(`^\$\{\{\s*steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9_-]+)\s*\}\}$`)

// The job summary of a big tree (60 layers made 390 KB) reaches the runner's
// summary file: the rendering step hands it over as a file, since one
// environment string over 128 KiB stops a run: step from starting. The two
// steps run here as the runner would, the Dagger call replaced by its result.
func TestPlanWorkflowWritesA400KBJobSummary(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(workflowsDir, "terraform-plan.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Steps []wfStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	steps := wf.Jobs["flash"].Steps
	var render, write *wfStep
	for i := range steps {
		if steps[i].ID == "summary" {
			render = &steps[i]
			if i+1 < len(steps) {
				write = &steps[i+1]
			}
		}
	}
	require.NotNil(t, render, "a step with id summary renders the summary")
	require.NotNil(t, write)
	require.NotEmpty(t, write.Run, "the step after it writes the summary")

	summary := strings.Repeat("| **L42** Layer | ✅ | ❌ | ✅ | `terraform/42.layer/main.tf:3` a finding's message |\n", 4600)
	require.Greater(t, len(summary), 400_000)
	temp, work := t.TempDir(), t.TempDir()
	outputs := map[string]string{}
	call, err := workflowcheck.ParseCall(render.With["call"])
	require.NoError(t, err)
	// The Dagger call's result: its stdout is the step's output, unless
	// --output saves it to a file.
	outputs["output"] = summary
	flags := append(call.Global, call.Flags...)
	for _, st := range call.Chain {
		flags = append(flags, st.Flags...)
	}
	for _, f := range flags {
		if f.Name == "--output" {
			path := strings.ReplaceAll(f.Value, "$RUNNER_TEMP", temp)
			require.NoError(t, os.WriteFile(path, []byte(summary), 0o600))
			outputs["output"] = ""
		}
	}

	stepSummary := filepath.Join(t.TempDir(), "step_summary")
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", write.Run)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + temp, "GITHUB_STEP_SUMMARY=" + stepSummary}
	for k, v := range write.Env {
		if m := stepOutput.FindStringSubmatch(strings.TrimSpace(v)); m != nil && m[1] == "summary" {
			v = outputs[m[2]]
		}
		require.NotContains(t, v, "${{", "an expression this test cannot evaluate: %s", v)
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the step could not run: %s", out)
	got, err := os.ReadFile(stepSummary)
	require.NoError(t, err)
	assert.Equal(t, summary, strings.TrimSuffix(string(got), "\n"), "the whole summary, once")
}
