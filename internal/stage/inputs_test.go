package stage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/stage"
)

// repoFiles is a repository with two layers, a module each calls, a module only
// one calls, a nested module, lint configs and files no stage reads.
var repoFiles = []string{
	".tflint.hcl",
	"README.md",
	"infra.hcl",
	".github/workflows/ci.yml",
	"terraform/1.bootstrap/main.tf",
	"terraform/1.bootstrap/versions.tf",
	"terraform/1.bootstrap/terraform.tfvars",
	"terraform/1.bootstrap/.terraform.lock.hcl",
	"terraform/1.bootstrap/README.md",
	"terraform/1.bootstrap/templates/cloud-init.yaml",
	"terraform/1.bootstrap/.terraform/providers/registry/x/terraform-provider-x",
	"terraform/1.bootstrap/terraform.tfstate",
	"terraform/1.bootstrap/tests/main.tftest.hcl",
	"terraform/2.platform/main.tf",
	"terraform/2.platform/override.tofu",
	"terraform/2.platform/.tflint.hcl",
	"terraform/2.platform/.terraform.lock.hcl",
	"terraform/12.platform-extra/main.tf",
	"modules/helm-service/main.tf",
	"modules/helm-service/values.yaml.tpl",
	"modules/helm-service/inner/main.tf",
	"modules/k3s-node/main.tf",
	"modules/k3s-node-extra/main.tf",
}

func selected(t *testing.T, f stage.Filter) []string {
	t.Helper()
	m, err := f.Matcher()
	require.NoError(t, err)
	var out []string
	for _, p := range repoFiles {
		if m.Match(p) {
			out = append(out, p)
		}
	}
	return out
}

func TestInputsSelectExactlyWhatEachStageReads(t *testing.T) {
	bootstrap := stage.Target{Path: "terraform/1.bootstrap", HasLockFile: true, LintConfig: ".tflint.hcl",
		Modules: []string{"modules/helm-service", "modules/helm-service/inner", "modules/k3s-node"}}
	platform := stage.Target{Path: "terraform/2.platform", LintConfig: "terraform/2.platform/.tflint.hcl",
		Modules: []string{"modules/helm-service"}}

	tests := []struct {
		name   string
		kind   stage.Kind
		target stage.Target
		want   []string
	}{
		{"format reads the code fmt formats, in the layer and its modules", stage.Format, bootstrap, []string{
			"terraform/1.bootstrap/main.tf",
			"terraform/1.bootstrap/versions.tf",
			"terraform/1.bootstrap/terraform.tfvars",
			"terraform/1.bootstrap/tests/main.tftest.hcl",
			"modules/helm-service/main.tf",
			"modules/helm-service/inner/main.tf",
			"modules/k3s-node/main.tf",
		}},
		{"lint reads the directories and the root config, not the lock file", stage.Lint, bootstrap, []string{
			".tflint.hcl",
			"terraform/1.bootstrap/main.tf",
			"terraform/1.bootstrap/versions.tf",
			"terraform/1.bootstrap/terraform.tfvars",
			"terraform/1.bootstrap/README.md",
			"terraform/1.bootstrap/templates/cloud-init.yaml",
			"terraform/1.bootstrap/tests/main.tftest.hcl",
			"modules/helm-service/main.tf",
			"modules/helm-service/values.yaml.tpl",
			"modules/helm-service/inner/main.tf",
			"modules/k3s-node/main.tf",
		}},
		{"validate reads the directories with the lock file", stage.Validate, bootstrap, []string{
			"terraform/1.bootstrap/main.tf",
			"terraform/1.bootstrap/versions.tf",
			"terraform/1.bootstrap/terraform.tfvars",
			"terraform/1.bootstrap/.terraform.lock.hcl",
			"terraform/1.bootstrap/README.md",
			"terraform/1.bootstrap/templates/cloud-init.yaml",
			"terraform/1.bootstrap/tests/main.tftest.hcl",
			"modules/helm-service/main.tf",
			"modules/helm-service/values.yaml.tpl",
			"modules/helm-service/inner/main.tf",
			"modules/k3s-node/main.tf",
		}},
		{"a layer's own lint config replaces the root one", stage.Lint, platform, []string{
			"terraform/2.platform/main.tf",
			"terraform/2.platform/override.tofu",
			"terraform/2.platform/.tflint.hcl",
			"modules/helm-service/main.tf",
			"modules/helm-service/values.yaml.tpl",
			"modules/helm-service/inner/main.tf",
		}},
		{"format reads tofu files too", stage.Format, platform, []string{
			"terraform/2.platform/main.tf",
			"terraform/2.platform/override.tofu",
			"modules/helm-service/main.tf",
			"modules/helm-service/inner/main.tf",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ElementsMatch(t, tt.want, selected(t, stage.Inputs(tt.kind, tt.target)))
		})
	}
}

func TestInputsOfALayerAtTheRepositoryRoot(t *testing.T) {
	f := stage.Inputs(stage.Validate, stage.Target{Path: "1.a", Modules: []string{"."}})
	assert.True(t, f.Match("1.a/main.tf"))
	assert.True(t, f.Match("README.md"), "a module at the root is the whole repository")
	assert.False(t, f.Match("1.a/.terraform/modules/modules.json"))
	assert.False(t, f.Match("terraform.tfstate"))
}

func TestInputsAreSortedAndStable(t *testing.T) {
	target := stage.Target{Path: "terraform/1.a", Modules: []string{"modules/b", "modules/a", "modules/a"}, LintConfig: ".tflint.hcl"}
	first := stage.Inputs(stage.Lint, target)
	assert.Equal(t, []string{".tflint.hcl", "modules/a", "modules/b", "terraform/1.a"}, first.Include)
	assert.Equal(t, first, stage.Inputs(stage.Lint, target))
	assert.Equal(t, []string{"terraform/1.a/.terraform.lock.hcl", "terraform/1.a/.terraform/modules/modules.json"},
		stage.InitRecord(target))
}

func TestPrepareCommandsIsValidateInit(t *testing.T) {
	assert.Empty(t, stage.PrepareCommands(stage.Format, stage.Target{Path: "a"}))
	assert.Empty(t, stage.PrepareCommands(stage.Lint, stage.Target{Path: "a"}))
	cmds := stage.PrepareCommands(stage.Validate, stage.Target{Path: "a", HasLockFile: true})
	require.Len(t, cmds, 1)
	assert.Equal(t, "init", cmds[0].Args[0])
	assert.Contains(t, cmds[0].Args, "-lockfile=readonly")
}

// A linked layer's stages read its real directory: a container needs it as
// well as the link, and the validate init runs there.
func TestALinkedLayersInputsHoldItsRealDirectory(t *testing.T) {
	target := stage.Target{Path: "layers/1.a", Real: "stacks/team/a", HasLockFile: true}
	for _, kind := range stage.Kinds {
		f := stage.Inputs(kind, target)
		assert.True(t, f.Match("stacks/team/a/main.tf"), kind)
	}
	cmds := stage.PrepareCommands(stage.Validate, target)
	require.Len(t, cmds, 1)
	assert.Equal(t, "stacks/team/a", cmds[0].Dir)
	assert.Empty(t, stage.PrepareCommands(stage.Validate, stage.Target{Path: "t/1.a", Terragrunt: true}), "no init in a Terragrunt unit")
}
