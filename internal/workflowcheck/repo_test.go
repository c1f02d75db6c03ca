package workflowcheck_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/toolchain"
	"github.com/infra-flash/infra/internal/workflowcheck"
)

// The repository's own workflows and Dagger module, from this package's directory.
var (
	repoRoot     = filepath.Join("..", "..")
	workflowsDir = filepath.Join(repoRoot, ".github", "workflows")
)

// actionlintVersion is what scripts/setup-actionlint installs.
const actionlintVersion = "1.7.12"

func engineVersion(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "dagger.json"))
	require.NoError(t, err)
	var cfg struct {
		EngineVersion string `json:"engineVersion"`
	}
	require.NoError(t, json.Unmarshal(src, &cfg))
	require.NotEmpty(t, cfg.EngineVersion)
	return cfg.EngineVersion
}

func workflowFiles(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(workflowsDir, "*.y*ml"))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, n := range names {
		src, err := os.ReadFile(n)
		require.NoError(t, err)
		out[filepath.Base(n)] = src
	}
	return out
}

func TestRepositoryWorkflowsPassTheAudit(t *testing.T) {
	files := workflowFiles(t)
	require.NotEmpty(t, files)
	opts := workflowcheck.Options{EngineVersion: engineVersion(t)}
	for name, src := range files {
		assert.Empty(t, workflowcheck.Check(name, src, opts), name)
	}
}

// workflow is the part of a workflow file the expectations read.
type workflow struct {
	On          yaml.Node `yaml:"on"`
	Permissions yaml.Node `yaml:"permissions"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress string `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		If          string            `yaml:"if"`
		Permissions map[string]string `yaml:"permissions"`
		Env         map[string]string `yaml:"env"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func load(t *testing.T, src []byte) workflow {
	t.Helper()
	var w workflow
	require.NoError(t, yaml.Unmarshal(src, &w))
	return w
}

// What each workflow may do, and when: a new scope or trigger must be added here
// on purpose.
func TestRepositoryWorkflowTriggersAndPermissions(t *testing.T) {
	want := map[string]struct {
		triggers []string
		perms    map[string]map[string]string
	}{
		"terraform-plan.yml": {[]string{"pull_request"}, map[string]map[string]string{
			"flash": {"contents": "read", "pull-requests": "write", "checks": "write", "statuses": "write"}}},
		"deploy-k3s.yml": {[]string{"push", "workflow_dispatch"}, map[string]map[string]string{
			"apply": {"contents": "read"}}},
		"drift.yml": {[]string{"schedule", "workflow_dispatch"}, map[string]map[string]string{
			"drift": {"contents": "read", "issues": "write"}}},
		"comment.yml": {[]string{"issue_comment", "pull_request"}, map[string]map[string]string{
			"command": {"contents": "read", "pull-requests": "write", "checks": "write", "statuses": "write"},
			"release": {"contents": "read"}}},
		"dig.yml": {[]string{"issue_comment"}, map[string]map[string]string{
			"dig": {"contents": "read", "pull-requests": "write"}}},
		"claude.yml": {[]string{"issue_comment", "pull_request_review_comment"}, map[string]map[string]string{
			"gate":   {"contents": "read"},
			"review": {"contents": "read", "pull-requests": "write", "issues": "write", "id-token": "write"}}},
		"ci.yml": {[]string{"pull_request", "push"}, map[string]map[string]string{
			"checks": {"contents": "read"}, "engine": {"contents": "read"}}},
	}
	files := workflowFiles(t)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	sort.Strings(wantNames)
	require.Equal(t, wantNames, names)

	for name, exp := range want {
		w := load(t, files[name])
		got := workflowcheck.Triggers(&w.On)
		sort.Strings(got)
		assert.Equal(t, exp.triggers, got, name)
		assert.Equal(t, yaml.MappingNode, w.Permissions.Kind, "%s: top-level permissions: {}", name)
		assert.Empty(t, w.Permissions.Content, "%s: top-level permissions: {}", name)
		require.Len(t, w.Jobs, len(exp.perms), name)
		for job, perms := range exp.perms {
			assert.Equal(t, perms, w.Jobs[job].Permissions, "%s job %s", name, job)
		}
	}

	deploy := load(t, files["deploy-k3s.yml"])
	assert.Equal(t, "deploy-k3s", deploy.Concurrency.Group)
	assert.Equal(t, "false", deploy.Concurrency.CancelInProgress)
	var branches struct {
		On struct {
			Push struct {
				Branches []string `yaml:"branches"`
			} `yaml:"push"`
		} `yaml:"on"`
	}
	require.NoError(t, yaml.Unmarshal(files["deploy-k3s.yml"], &branches))
	assert.Equal(t, []string{"main"}, branches.On.Push.Branches)
}

// Every workflow runs its Dagger steps on the engine dagger.json names, and can be
// pointed at a shared engine by a repository variable.
func TestRepositoryWorkflowsPinOneDaggerVersion(t *testing.T) {
	version := engineVersion(t)
	for name, src := range workflowFiles(t) {
		w := load(t, src)
		for id, job := range w.Jobs {
			usesDagger := false
			for _, s := range job.Steps {
				if strings.HasPrefix(s.Uses, workflowcheck.DaggerAction+"@") {
					usesDagger = true
					assert.Equal(t, version, s.With["version"], "%s job %s", name, id)
				}
			}
			if usesDagger {
				host := job.Env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]
				assert.Contains(t, host, "vars.DAGGER_RUNNER_HOST", "%s job %s", name, id)
				assert.Contains(t, host, "'docker-image://registry.dagger.io/engine:"+version+"'", "%s job %s", name, id)
			}
		}
	}
}

// inject puts text into the first run: step (adding one if needed) and into the
// first Dagger call of a copy of a workflow.
func inject(t *testing.T, src []byte, text string) (runCopy, callCopy []byte) {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	var r, c []string
	doneRun, doneCall := false, false
	for _, l := range lines {
		trimmed := strings.TrimSpace(l)
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
		r = append(r, l)
		c = append(c, l)
		if !doneRun && strings.HasPrefix(trimmed, "steps:") {
			r = append(r, indent+"  - run: echo \""+text+"\"")
			doneRun = true
		}
		if !doneCall && strings.HasPrefix(trimmed, "call:") {
			c[len(c)-1] = indent + "call: " + strings.TrimSpace(strings.TrimPrefix(trimmed, "call:")) + " " + text
			if strings.HasSuffix(trimmed, ">-") {
				c[len(c)-1] = l
				c = append(c, indent+"  "+text)
			}
			doneCall = true
		}
	}
	require.True(t, doneRun)
	return []byte(strings.Join(r, "\n")), []byte(strings.Join(c, "\n"))
}

func actionlint(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(toolchain.CacheDir(), "tools", "bin", "actionlint-"+actionlintVersion)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("actionlint %s is not installed: run scripts/setup-actionlint (scripts/test does)", actionlintVersion)
	}
	return bin
}

func runActionlint(t *testing.T, bin string, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-no-color", "-oneline"}, files...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A copied workflow with the comment's text pasted into a shell is caught, by this
// audit for every workflow, and by actionlint for run: steps.
func TestInjectedCommentBodyIsCaught(t *testing.T) {
	const evil = "${{ github.event.comment.body }}"
	opts := workflowcheck.Options{EngineVersion: engineVersion(t)}
	bin := actionlint(t)
	dir := t.TempDir()
	for name, src := range workflowFiles(t) {
		runCopy, callCopy := inject(t, src, evil)

		fs := workflowcheck.Check(name, runCopy, opts)
		assert.Contains(t, rules(fs), workflowcheck.RuleScriptExpression, "%s: %v", name, fs)
		p := filepath.Join(dir, "run-"+name)
		require.NoError(t, os.WriteFile(p, runCopy, 0o644))
		out, err := runActionlint(t, bin, p)
		assert.Error(t, err, "%s: actionlint passed an injected run step", name)
		assert.Contains(t, out, "github.event.comment.body", name)

		if string(callCopy) != string(src) {
			fs = workflowcheck.Check(name, callCopy, opts)
			assert.Contains(t, rules(fs), workflowcheck.RuleInputExpression, "%s: %v", name, fs)
		}
	}
}

func TestActionlintPassesTheRepositoryWorkflows(t *testing.T) {
	bin := actionlint(t)
	var paths []string
	for name := range workflowFiles(t) {
		paths = append(paths, filepath.Join(workflowsDir, name))
	}
	out, err := runActionlint(t, bin, paths...)
	assert.NoError(t, err, out)
}

// Every `dagger call` in the workflows names a function and flags the module has.
// This is the guard that no workflow ships calling a function that does not exist.
func TestRepositoryWorkflowsCallExistingDaggerFunctions(t *testing.T) {
	mod, err := workflowcheck.ReadModule(filepath.Join(repoRoot, "ci"), "Infra")
	require.NoError(t, err)
	opts := workflowcheck.Options{EngineVersion: engineVersion(t), Module: mod}
	for name, src := range workflowFiles(t) {
		for _, f := range workflowcheck.Check(name, src, opts) {
			assert.NotEqual(t, workflowcheck.RuleDaggerFunction, f.Rule, "%s (module functions: %v)", f, mod.FunctionNames())
		}
	}
}

func TestReadModuleFindsTheModulesFunctions(t *testing.T) {
	mod, err := workflowcheck.ReadModule(filepath.Join(repoRoot, "ci"), "Infra")
	require.NoError(t, err)
	for _, fn := range []string{"validate", "fmt", "lint", "report", "layers", "atlantis-config"} {
		assert.Contains(t, mod.Functions, fn)
	}
	assert.True(t, mod.Functions["validate"]["--layer"])
	assert.True(t, mod.Functions["atlantis-config"]["--check"])
	assert.True(t, mod.Global["--source"])
	assert.True(t, mod.Global["--layers-dir"])
	assert.Empty(t, mod.Missing(workflowcheck.Call{Function: "validate", Flags: []workflowcheck.Flag{{Name: "--layer", Value: "all"}}}))
	assert.Equal(t, []string{"validate flag --bogus"}, mod.Missing(workflowcheck.Call{Function: "validate", Flags: []workflowcheck.Flag{{Name: "--bogus"}}}))
	assert.Equal(t, []string{"function nope"}, mod.Missing(workflowcheck.Call{Function: "nope"}))

	chained, err := workflowcheck.ParseCallFor(`github --dry-run --token env://T flash --layer all --bogus`, mod.IsBool)
	require.NoError(t, err)
	assert.Equal(t, []string{"flash flag --bogus"}, mod.Missing(chained))
	notThere, err := workflowcheck.ParseCallFor(`github --dry-run flash-everything`, mod.IsBool)
	require.NoError(t, err)
	assert.Equal(t, []string{"function flash-everything"}, mod.Missing(notThere))
}

// Model modules keep functions small: settings shared by several functions live on
// an object (the constructor, WithBackend, Github), never repeated as arguments.
func TestNoDaggerFunctionTakesMoreThanTenArguments(t *testing.T) {
	mod, err := workflowcheck.ReadModule(filepath.Join(repoRoot, "ci"), "Infra")
	require.NoError(t, err)
	require.Contains(t, mod.Objects, "Github")
	for object, funcs := range mod.Objects {
		for name, fn := range funcs {
			assert.LessOrEqual(t, fn.Params, 10, "%s.%s takes %d arguments", object, name, fn.Params)
		}
	}
}

// The shared engine the reference infrastructure deploys runs the version the
// module and the workflows pin: the chart carries the engine of its own version.
func TestReferenceInfrastructureEngineFollowsEngineVersion(t *testing.T) {
	want := strings.TrimPrefix(engineVersion(t), "v")
	files, err := filepath.Glob(filepath.Join(repoRoot, "terraform", "*", "*.tf"))
	require.NoError(t, err)
	parser := hclparse.NewParser()
	found := 0
	for _, name := range files {
		f, diags := parser.ParseHCLFile(name)
		require.False(t, diags.HasErrors(), "%s: %s", name, diags)
		content, _, _ := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "module", LabelNames: []string{"name"}}}})
		for _, b := range content.Blocks {
			attrs, _ := b.Body.JustAttributes()
			chart, ok := attrs["chart"]
			if !ok {
				continue
			}
			if v, d := chart.Expr.Value(nil); d.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() || v.AsString() != "dagger-helm" {
				continue
			}
			found++
			version, ok := attrs["chart_version"]
			require.True(t, ok, "%s: module %q has no chart_version", name, b.Labels[0])
			v, d := version.Expr.Value(nil)
			require.False(t, d.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull(), "%s: chart_version must be a literal string", name)
			assert.Equal(t, want, v.AsString(), "%s: module %q runs another engine than dagger.json's", name, b.Labels[0])
		}
	}
	assert.Equal(t, 1, found, "the reference infrastructure deploys one Dagger engine")
}
