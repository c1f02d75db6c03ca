package atlantisyaml_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/moby/patternmatcher"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/cli"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func layer(key, body string) *fstest.MapFile {
	return file(fmt.Sprintf("terraform {\n  backend \"s3\" {\n    key = %q\n  }\n}\n%s", key, body))
}

func remoteState(name, key string) string {
	return fmt.Sprintf("data \"terraform_remote_state\" %q {\n  backend = \"s3\"\n  config = {\n    key = %q\n  }\n}\n", name, key)
}

// tree is shaped like the reference infrastructure: a chain of four layers, a
// module called by two layers, and a module that calls another.
func tree() fstest.MapFS {
	return fstest.MapFS{
		"terraform/1.bootstrap/main.tf":        layer("1.bootstrap/terraform.tfstate", `module "k3s" { source = "../../modules/k3s" }`),
		"terraform/1.bootstrap/values/a.yaml":  file("a: 1"),
		"terraform/2.platform/main.tf":         layer("2.platform/terraform.tfstate", remoteState("l1", "1.bootstrap/terraform.tfstate")+`module "v" { source = "../../modules/svc" }`),
		"terraform/3.data/main.tf":             layer("3.data/terraform.tfstate", remoteState("l2", "2.platform/terraform.tfstate")+`module "pg" { source = "../../modules/svc" }`),
		"terraform/4.insight/main.tf":          layer("4.insight/terraform.tfstate", remoteState("l2", "2.platform/terraform.tfstate")),
		"terraform/4.insight/charts/x/a.yaml":  file("x: 1"),
		"terraform/README.md":                  file("not a layer"),
		"modules/k3s/main.tf":                  file(`resource "null_resource" "k3s" {}`),
		"modules/svc/main.tf":                  file(`module "inner" { source = "../ns" }`),
		"modules/svc/templates/values.yaml":    file("v: 1"),
		"modules/ns/main.tf":                   file(`resource "null_resource" "ns" {}`),
		"modules/unused/main.tf":               file(`resource "null_resource" "u" {}`),
		"infra.hcl":                            file(`engine = "tofu"`),
		".tflint.hcl":                          file(``),
		"README.md":                            file("docs"),
		".github/workflows/terraform-plan.yml": file("on: pull_request"),
	}
}

func discover(t *testing.T, fsys fstest.MapFS) *layers.Set {
	t.Helper()
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(t, err)
	return set
}

// parsed is the part of the generated file the assertions read back.
type parsed struct {
	Version      int  `yaml:"version"`
	ParallelPlan bool `yaml:"parallel_plan"`
	Autodiscover struct {
		Mode string `yaml:"mode"`
	} `yaml:"autodiscover"`
	Projects []struct {
		Name                string   `yaml:"name"`
		Dir                 string   `yaml:"dir"`
		Workspace           string   `yaml:"workspace"`
		Workflow            string   `yaml:"workflow"`
		ExecutionOrderGroup int      `yaml:"execution_order_group"`
		DependsOn           []string `yaml:"depends_on"`
		Autoplan            struct {
			Enabled      bool     `yaml:"enabled"`
			WhenModified []string `yaml:"when_modified"`
		} `yaml:"autoplan"`
	} `yaml:"projects"`
	Workflows map[string]any `yaml:"workflows"`
}

// server is the part of the server-side repo config the assertions read back.
type server struct {
	Repos []struct {
		ID               string   `yaml:"id"`
		AllowedOverrides []string `yaml:"allowed_overrides"`
		AllowedWorkflows []string `yaml:"allowed_workflows"`
		AllowCustom      bool     `yaml:"allow_custom_workflows"`
	} `yaml:"repos"`
	Workflows map[string]struct {
		Plan struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"plan"`
		Apply struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"apply"`
	} `yaml:"workflows"`
}

func render(t *testing.T, fsys fstest.MapFS) ([]byte, parsed) {
	t.Helper()
	out, err := atlantisyaml.Render(discover(t, fsys))
	require.NoError(t, err)
	var p parsed
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	require.NoError(t, dec.Decode(&p), "%s", out)
	return out, p
}

func TestRenderOneProjectPerLayerInDependencyOrder(t *testing.T) {
	out, p := render(t, tree())
	assert.Equal(t, 3, p.Version)
	assert.True(t, strings.HasPrefix(string(out), "# Generated from the layer model"))
	assert.Equal(t, "disabled", p.Autodiscover.Mode)
	require.Len(t, p.Projects, 4)

	type row struct {
		name, dir string
		group     int
		deps      []string
	}
	var got []row
	for _, pr := range p.Projects {
		got = append(got, row{pr.Name, pr.Dir, pr.ExecutionOrderGroup, pr.DependsOn})
		assert.Equal(t, atlantisyaml.WorkflowName, pr.Workflow)
		assert.False(t, pr.Autoplan.Enabled, "the pull-request workflow kicks the plan")
	}
	assert.Equal(t, []row{
		{"1.bootstrap", "terraform/1.bootstrap", 0, []string{}},
		{"2.platform", "terraform/2.platform", 1, []string{"1.bootstrap"}},
		{"3.data", "terraform/3.data", 2, []string{"2.platform"}},
		// 4.insight reads only 2.platform: it may plan and apply beside 3.data.
		{"4.insight", "terraform/4.insight", 2, []string{"2.platform"}},
	}, got)
}

func TestWhenModifiedNamesTheLayerItsModulesAndTheSharedSettings(t *testing.T) {
	_, p := render(t, tree())
	byName := map[string][]string{}
	for _, pr := range p.Projects {
		byName[pr.Name] = pr.Autoplan.WhenModified
	}
	assert.Equal(t, []string{"**/*", "../../modules/k3s/**/*", "../../infra.hcl", "../../.tflint.hcl"}, byName["1.bootstrap"])
	// svc calls ns: both count for every layer calling svc.
	assert.Equal(t, []string{"**/*", "../../modules/ns/**/*", "../../modules/svc/**/*", "../../infra.hcl", "../../.tflint.hcl"}, byName["3.data"])
	assert.Equal(t, []string{"**/*", "../../infra.hcl", "../../.tflint.hcl"}, byName["4.insight"])
}

// atlantisMatches decides, as Atlantis does, which projects a bare "atlantis plan"
// plans in a pull request changing file: each pattern is joined to the project's dir and matched against the
// repository-relative path (dockerignore syntax, by moby/patternmatcher).
func atlantisMatches(t *testing.T, p parsed, file string) []string {
	t.Helper()
	var out []string
	for _, pr := range p.Projects {
		var patterns []string
		for _, wm := range pr.Autoplan.WhenModified {
			patterns = append(patterns, filepath.Join(pr.Dir, wm))
		}
		pm, err := patternmatcher.New(patterns)
		require.NoError(t, err)
		ok, err := pm.MatchesOrParentMatches(file)
		require.NoError(t, err)
		if ok {
			out = append(out, pr.Name)
		}
	}
	return out
}

// The projects Atlantis plans for a change are the layers the layer model calls
// changed, except the dependents it adds (they plan after the lower layer applies).
func TestAutoplanAgreesWithTheLayerModel(t *testing.T) {
	fsys := tree()
	set := discover(t, fsys)
	_, p := render(t, fsys)
	files := []string{"terraform/2.platform/new-file.tf", "modules/gone/main.tf"}
	for name := range fsys {
		files = append(files, name)
	}
	sort.Strings(files)
	for _, f := range files {
		matched := atlantisMatches(t, p, f)
		want := set.AffectedBy([]string{f})
		withDependents := append(append([]string{}, matched...), set.Dependents(matched)...)
		assert.ElementsMatch(t, want, withDependents, "file %s: Atlantis plans %v", f, matched)
	}
	assert.Empty(t, atlantisMatches(t, p, "modules/unused/main.tf"))
	assert.Equal(t, []string{"2.platform", "3.data"}, atlantisMatches(t, p, "modules/ns/main.tf"))
	assert.Equal(t, []string{"4.insight"}, atlantisMatches(t, p, "terraform/4.insight/charts/x/a.yaml"))
}

func TestAChangedModulePathChangesTheFileAndTheCheckFails(t *testing.T) {
	before, _ := render(t, tree())
	moved := tree()
	moved["modules/storage/main.tf"] = moved["modules/svc/main.tf"]
	delete(moved, "modules/svc/main.tf")
	moved["terraform/2.platform/main.tf"] = layer("2.platform/terraform.tfstate", remoteState("l1", "1.bootstrap/terraform.tfstate")+`module "v" { source = "../../modules/storage" }`)
	moved["terraform/3.data/main.tf"] = layer("3.data/terraform.tfstate", remoteState("l2", "2.platform/terraform.tfstate")+`module "pg" { source = "../../modules/storage" }`)
	after, p := render(t, moved)

	for _, pr := range p.Projects {
		if pr.Name == "2.platform" || pr.Name == "3.data" {
			assert.Contains(t, pr.Autoplan.WhenModified, "../../modules/storage/**/*")
			assert.NotContains(t, pr.Autoplan.WhenModified, "../../modules/svc/**/*")
		}
	}
	assert.Equal(t, []string{"2.platform", "3.data"}, atlantisMatches(t, p, "modules/storage/main.tf"))
	assert.Empty(t, atlantisMatches(t, p, "modules/svc/main.tf"))
	assert.NoError(t, atlantisyaml.Check(after, after))
	err := atlantisyaml.Check(before, after)
	var stale *atlantisyaml.StaleError
	require.ErrorAs(t, err, &stale)
	assert.Contains(t, stale.Want, "../../modules/storage/**/*")
	assert.Contains(t, err.Error(), `run "infra atlantis-config"`)

	err = atlantisyaml.Check(nil, after)
	require.ErrorAs(t, err, &stale)
	assert.True(t, stale.Missing)
	assert.Contains(t, err.Error(), "missing")

	// A file cut short is stale too.
	require.ErrorAs(t, atlantisyaml.Check(after[:len(after)-10], after), &stale)
}

func TestDependenciesFromInfraHCLAndLayersAtTheRoot(t *testing.T) {
	fsys := fstest.MapFS{
		"infra.hcl":       file("layers_dir = \".\"\nlayer \"2.apps\" {\n  depends_on = [\"1.base\"]\n}\n"),
		"1.base/main.tf":  file(`module "m" { source = "../mods/m" }`),
		"2.apps/main.tf":  file(`resource "null_resource" "a" {}`),
		"mods/m/main.tf":  file(`resource "null_resource" "m" {}`),
		"3.other/main.tf": file(`module "ext" { source = "../../outside" }`),
	}
	_, p := render(t, fsys)
	require.Len(t, p.Projects, 3)
	assert.Equal(t, "1.base", p.Projects[0].Dir)
	assert.Equal(t, []string{"**/*", "../mods/m/**/*", "../infra.hcl", "../.tflint.hcl"}, p.Projects[0].Autoplan.WhenModified)
	assert.Equal(t, []string{"1.base"}, p.Projects[1].DependsOn)
	assert.Equal(t, 1, p.Projects[1].ExecutionOrderGroup)
	// A module outside the repository cannot change in a pull request.
	assert.Equal(t, []string{"**/*", "../infra.hcl", "../.tflint.hcl"}, p.Projects[2].Autoplan.WhenModified)
	assert.Empty(t, p.Workflows, "the workflow is the server's, not the repository's")
}

// The server defines the one workflow the projects may choose; repositories
// cannot bring their own.
func TestServerConfigDefinesTheOnlyWorkflow(t *testing.T) {
	sc := serverConfig(t)
	require.Len(t, sc.Repos, 1)
	assert.Equal(t, []string{"workflow"}, sc.Repos[0].AllowedOverrides)
	assert.Equal(t, []string{atlantisyaml.WorkflowName}, sc.Repos[0].AllowedWorkflows)
	assert.False(t, sc.Repos[0].AllowCustom)
	require.Len(t, sc.Workflows, 1)
	assert.Contains(t, sc.Workflows, atlantisyaml.WorkflowName)
}

func serverConfig(t *testing.T) server {
	t.Helper()
	out, err := atlantisyaml.ServerConfig()
	require.NoError(t, err)
	var sc server
	require.NoError(t, yaml.Unmarshal(out, &sc), "%s", out)
	return sc
}

func TestRenderIsStable(t *testing.T) {
	a, _ := render(t, tree())
	for i := 0; i < 5; i++ {
		b, _ := render(t, tree())
		require.Equal(t, string(a), string(b))
	}
}

// The workflow steps run under sh in the project directory, as Atlantis runs them.
// A recorder stands in for infra on PATH (plan and apply need state and credentials)
// to show what the CLI receives: the comment's extra arguments arrive one by one,
// unevaluated and unglobbed, apply gets the plans that plan saved, and the native
// CLI knows every command and flag the steps use.
func TestWorkflowStepsPassCommentArgumentsAsPlainWords(t *testing.T) {
	wf := serverConfig(t).Workflows[atlantisyaml.WorkflowName]
	require.Len(t, wf.Plan.Steps, 1)
	require.Len(t, wf.Apply.Steps, 1)

	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "args")
	// Records its arguments; for plan, saves <layer>.tfplan in the --out directory
	// as infra plan --out does.
	recorder := `#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done > "` + record + `"
out=; layer=; prev=
for a in "$@"; do
  case "$prev" in --out) out=$a ;; --layer) layer=$(basename "$a") ;; esac
  prev=$a
done
if [ "$1" = plan ]; then mkdir -p "$out" && echo plan > "$out/$layer.tfplan"; fi
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "infra"), []byte(recorder), 0o755))
	clone := filepath.Join(t.TempDir(), "repos", "acme", "infra", "7", "default")
	project := filepath.Join(clone, "terraform", "2.platform")
	require.NoError(t, os.MkdirAll(project, 0o755))
	planfile := filepath.Join(project, "default-2.platform.tfplan")
	plans := clone + ".infra-plans/2.platform"
	marker := filepath.Join(t.TempDir(), "pwned")

	// What Atlantis sets for `atlantis plan -- -target=module.x "$(touch MARKER)" *`:
	// the words comma-separated, every character escaped.
	escape := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteString(`\` + string(r))
		}
		return b.String()
	}
	words := []string{"-target=module.x", "$(touch " + marker + ")", "*", "-var=a b"}
	var escaped []string
	for _, w := range words {
		escaped = append(escaped, escape(w))
	}

	run := func(script string, env ...string) []string {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = project
		cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin", "PROJECT_NAME=2.platform",
			"DIR=" + project, "REPO_REL_DIR=terraform/2.platform", "PLANFILE=" + planfile}, env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		got, err := os.ReadFile(record)
		require.NoError(t, err)
		return strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	}

	got := run(wf.Plan.Steps[0].Run, "COMMENT_ARGS="+strings.Join(escaped, ","))
	assert.Equal(t, append([]string{"plan", "--source", clone, "--layer", "terraform/2.platform", "--out", plans, "--"}, words...), got)
	assert.NoFileExists(t, marker)
	assert.FileExists(t, planfile, "Atlantis finds the pending plan at PLANFILE")
	assert.NoDirExists(t, filepath.Join(clone, ".infra-plans"), "no plan files inside the clone")

	got = run(wf.Plan.Steps[0].Run, "INFRA_BACKEND_CONFIG=/etc/infra/backend.hcl")
	assert.Equal(t, []string{"plan", "--source", clone, "--layer", "terraform/2.platform", "--out", plans, "--backend-config=/etc/infra/backend.hcl", "--"}, got)
	cliAccepts(t, got)

	got = run(wf.Apply.Steps[0].Run, "INFRA_BACKEND_CONFIG=/etc/infra/backend.hcl")
	assert.Equal(t, []string{"apply", "--source", clone, "--layer", "terraform/2.platform", "--plans", plans, "--backend-config=/etc/infra/backend.hcl"}, got)
	cliAccepts(t, got)

	// A project of an environment: Atlantis sets its workspace.
	got = run(wf.Plan.Steps[0].Run, "WORKSPACE=staging")
	assert.Equal(t, []string{"plan", "--source", clone, "--layer", "terraform/2.platform", "--env=staging", "--out", plans, "--"}, got)
	cliAccepts(t, got)
	got = run(wf.Apply.Steps[0].Run, "WORKSPACE=default")
	assert.Equal(t, []string{"apply", "--source", clone, "--layer", "terraform/2.platform", "--plans", plans}, got)
}

// cliAccepts checks that the native CLI knows the command and flags of a command
// line a step produced (up to "--"), by asking it for --help.
func cliAccepts(t *testing.T, argv []string) {
	t.Helper()
	for i, a := range argv {
		if a == "--" {
			argv = argv[:i]
			break
		}
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), append(append([]string{}, argv...), "--help"), &stdout, &stderr)
	assert.Equal(t, 0, code, "the native CLI refuses infra %s: %s", strings.Join(argv, " "), stderr.String())
}

// The committed atlantis.yaml is what the repository's layers produce.
func TestCommittedFileIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	fsys := os.DirFS(root)
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(t, err)
	want, err := atlantisyaml.Render(set)
	require.NoError(t, err)
	have, err := os.ReadFile(filepath.Join(root, atlantisyaml.FileName))
	require.NoError(t, err, "run: go run ./cmd/infra atlantis-config")
	assert.NoError(t, atlantisyaml.Check(have, want))
}

// The reference infrastructure's Atlantis runs the server-side repo config this
// package renders.
func TestCommittedServerConfigIsCurrent(t *testing.T) {
	want, err := atlantisyaml.ServerConfig()
	require.NoError(t, err)
	have, err := os.ReadFile(filepath.Join("..", "..", "terraform", "1.bootstrap", "values", "atlantis-repos.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(have), "run: go run ./cmd/infra atlantis-config --server > terraform/1.bootstrap/values/atlantis-repos.yaml")
}

// One project per (layer, environment): an environment's layer is its project
// in the environment's workspace; a layer applied per environment with its own
// files is one project per environment; shared layers are one project.
func TestOneProjectPerLayerAndEnvironment(t *testing.T) {
	render := func(fixture string) parsed {
		fsys := os.DirFS(filepath.Join("..", "..", "testdata", "engine", fixture))
		cfg, err := repoconfig.Load(fsys)
		require.NoError(t, err)
		set, err := layers.Discover(fsys, cfg)
		require.NoError(t, err)
		out, err := atlantisyaml.Render(set)
		require.NoError(t, err)
		var p parsed
		require.NoError(t, yaml.Unmarshal(out, &p))
		return p
	}
	type row struct{ Name, Dir, Workspace, Deps string }
	rows := func(p parsed) []row {
		var out []row
		for _, pr := range p.Projects {
			out = append(out, row{pr.Name, pr.Dir, pr.Workspace, strings.Join(pr.DependsOn, ",")})
		}
		return out
	}
	assert.Equal(t, []row{
		{"bootstrap", "bootstrap", "", ""},
		{"platform", "platform", "", "bootstrap"},
		{"prod-data", "envs/prod/data", "prod", "platform"},
		{"staging-data", "envs/staging/data", "staging", "platform"},
	}, rows(render("layout-envs")))
	assert.Equal(t, []row{
		{"network", "network", "", ""},
		{"app-staging", "app", "staging", "network"},
		{"app-prod", "app", "prod", "network"},
	}, rows(render("layout-tfvars")))
}
