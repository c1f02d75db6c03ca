// Package atlantisyaml renders Atlantis's repo config (atlantis.yaml, version 3) from
// the layer model, so the projects, their order and what triggers their plans can
// never drift from the layers the pipeline checks; and the server-side repo config
// that defines the infra workflow those projects run.
package atlantisyaml

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// FileName is where Atlantis reads the repo config: the repository root, this name only.
const FileName = "atlantis.yaml"

// WorkflowName is the server-side workflow every generated project uses.
const WorkflowName = "infra"

const header = `# Generated from the layer model by "infra atlantis-config"; do not edit.
# "infra atlantis-config --check" (run by the project's tests) fails when this
# file differs from what the layers say. Each project is one layer, planned and
# applied in dependency order through the native infra CLI by the "infra"
# workflow the Atlantis server defines ("infra atlantis-config --server" prints
# its repo config). Autoplan is off: the pull-request workflow asks Atlantis to
# plan once the syntax checks pass; a bare "atlantis plan" still plans the layers
# whose files, local modules or pipeline settings changed.
`

type repoConfig struct {
	Version                   int          `yaml:"version"`
	Automerge                 bool         `yaml:"automerge"`
	ParallelPlan              bool         `yaml:"parallel_plan"`
	ParallelApply             bool         `yaml:"parallel_apply"`
	AbortOnExecutionOrderFail bool         `yaml:"abort_on_execution_order_fail"`
	Autodiscover              autodiscover `yaml:"autodiscover"`
	Projects                  []project    `yaml:"projects"`
}

// serverConfig is Atlantis's server-side repo config (--repo-config).
type serverConfig struct {
	Repos     []serverRepo        `yaml:"repos"`
	Workflows map[string]workflow `yaml:"workflows"`
}

type serverRepo struct {
	ID               string   `yaml:"id"`
	AllowedOverrides []string `yaml:"allowed_overrides,flow"`
	AllowedWorkflows []string `yaml:"allowed_workflows,flow"`
}

type autodiscover struct {
	Mode string `yaml:"mode"`
}

type project struct {
	Name                string   `yaml:"name"`
	Dir                 string   `yaml:"dir"`
	Workspace           string   `yaml:"workspace,omitempty"` // the environment, when the layer has one
	Workflow            string   `yaml:"workflow"`
	ExecutionOrderGroup int      `yaml:"execution_order_group"`
	DependsOn           []string `yaml:"depends_on,flow"`
	Autoplan            autoplan `yaml:"autoplan"`
}

type autoplan struct {
	Enabled      bool     `yaml:"enabled"`
	WhenModified []string `yaml:"when_modified"`
}

type workflow struct {
	Plan  stage `yaml:"plan"`
	Apply stage `yaml:"apply"`
}

type stage struct {
	Steps []step `yaml:"steps"`
}

type step struct {
	Run string `yaml:"run"`
}

// The steps run in the project's directory with Atlantis's variables set (DIR,
// REPO_REL_DIR, PROJECT_NAME, PLANFILE, COMMENT_ARGS); the clone's root is DIR
// without REPO_REL_DIR, so one server-side workflow serves layers at any depth.
// The plan step saves the layer's plan with what it was made from (infra plan
// --out) beside the clone, in the pull request's directory (Atlantis removes it
// with the pull request) and not inside it, where Atlantis would take the
// *.tfplan files for plans of other projects; it copies the plan to PLANFILE,
// where Atlantis looks for pending plans. The apply step applies exactly that
// saved plan (infra apply --plans), which the CLI refuses when it was made at
// another commit or from other files.
// The layer is named by its directory (REPO_REL_DIR) and the environment by the
// project's workspace, so a layer planned once per environment is one project
// per environment.
// COMMENT_ARGS holds the words after "--" in the comment, comma-separated with every
// character backslash-escaped: they are split on commas with globbing off, so they
// reach terraform as plain arguments and are never evaluated by the shell.
// INFRA_BACKEND_CONFIG, when the Atlantis pod sets it, names the -backend-config
// file (for example the R2 endpoint and credentials).
const (
	paths = `root="${DIR%/"$REPO_REL_DIR"}"
plans="$root.infra-plans/$PROJECT_NAME"
env=
[ "${WORKSPACE:-default}" = default ] || env="--env=$WORKSPACE"
`
	backendArg = `${INFRA_BACKEND_CONFIG:+"--backend-config=$INFRA_BACKEND_CONFIG"}`
	planScript = "set -euf\n" + paths + `IFS=,
set -- $(printf '%s' "${COMMENT_ARGS:-}" | tr -d '\\')
unset IFS
rm -rf "$plans"
infra plan --source "$root" --layer "$REPO_REL_DIR" ${env:+"$env"} --out "$plans" ` + backendArg + ` -- "$@"
set +f
cp "$plans"/*.tfplan "$PLANFILE"
`
	applyScript = "set -euf\n" + paths + `infra apply --source "$root" --layer "$REPO_REL_DIR" ${env:+"$env"} --plans "$plans" ` + backendArg + `
`
)

// ServerConfig returns the server-side repo config (Atlantis's --repo-config, the
// helm chart's repoConfig) that defines the infra workflow. Repositories may choose
// it for their projects and no other; they cannot define workflows of their own,
// so a pull request cannot change what the Atlantis server runs.
func ServerConfig() ([]byte, error) {
	cfg := serverConfig{
		Repos: []serverRepo{{ID: "/.*/", AllowedOverrides: []string{"workflow"}, AllowedWorkflows: []string{WorkflowName}}},
		Workflows: map[string]workflow{WorkflowName: {
			Plan:  stage{Steps: []step{{Run: planScript}}},
			Apply: stage{Steps: []step{{Run: applyScript}}},
		}},
	}
	var b bytes.Buffer
	b.WriteString(serverHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("rendering the server-side repo config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering the server-side repo config: %w", err)
	}
	return b.Bytes(), nil
}

const serverHeader = `# Atlantis server-side repo config from "infra atlantis-config --server"; do not
# edit. It defines the infra workflow the generated atlantis.yaml's projects run.
`

// Render returns the atlantis.yaml for the layers of set.
func Render(set *layers.Set) ([]byte, error) {
	if len(set.Layers) == 0 {
		return nil, &layers.InputError{Msg: "no layers: nothing for Atlantis to plan"}
	}
	groups := orderGroups(set.Layers)
	cfg := repoConfig{
		Version:      3,
		ParallelPlan: true,
		// Layers in one execution order group never depend on each other, so they may
		// apply at once; a failed group stops the later ones.
		ParallelApply:             true,
		AbortOnExecutionOrderFail: true,
		// Only the layers are projects: never a module or any other directory.
		Autodiscover: autodiscover{Mode: "disabled"},
	}
	for _, l := range set.Layers {
		for _, env := range instances(l) {
			cfg.Projects = append(cfg.Projects, project{
				Name:                projectName(l, env),
				Dir:                 l.Path,
				Workspace:           env,
				Workflow:            WorkflowName,
				ExecutionOrderGroup: groups[l.Dir],
				DependsOn:           projectDeps(set, l, env),
				// The pull-request workflow kicks the plan after the checks pass; an
				// autoplan as well would plan every change twice. when_modified still
				// decides what a bare "atlantis plan" plans.
				Autoplan: autoplan{Enabled: false, WhenModified: whenModified(l)},
			})
		}
	}
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", FileName, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", FileName, err)
	}
	return b.Bytes(), nil
}

// instances are the environments a layer is planned in, one project each: its
// own, each that applies it with its files, or none ("") for a shared layer.
func instances(l *layers.Layer) []string {
	switch {
	case l.Env != "":
		return []string{l.Env}
	case len(l.PerEnv) > 0:
		return l.PerEnv
	}
	return []string{""}
}

// Instance is one Atlantis project of a layer: its name and workspace (the
// environment; "" for a shared layer, planned in the default workspace).
type Instance struct{ Name, Workspace string }

// Instances are the projects the generated file declares for a layer, in the
// order it declares them; env narrows them to one environment ("" keeps all).
func Instances(l *layers.Layer, env string) []Instance {
	var out []Instance
	for _, e := range instances(l) {
		if env == "" || e == "" || e == env {
			out = append(out, Instance{projectName(l, e), e})
		}
	}
	return out
}

// projectName is the layer's key, with the environment for a layer planned once
// per environment.
func projectName(l *layers.Layer, env string) string {
	if env != "" && l.Env == "" {
		return l.Dir + "-" + env
	}
	return l.Dir
}

// projectDeps names the projects a layer's project waits for: in its own
// environment for a layer planned per environment, else every instance.
func projectDeps(set *layers.Set, l *layers.Layer, env string) []string {
	out := []string{}
	for _, d := range l.DependsOn {
		dep := set.Get(d)
		if dep == nil {
			continue
		}
		for _, e := range instances(dep) {
			if e == "" || env == "" || e == env || dep.Env != "" {
				out = append(out, projectName(dep, e))
			}
		}
	}
	return out
}

// orderGroups gives each layer the length of its longest dependency chain: layers
// with nothing below them are group 0, and a layer always comes after every layer it
// reads. Layers are already in topological order, so one pass suffices.
func orderGroups(ls []*layers.Layer) map[string]int {
	g := make(map[string]int, len(ls))
	for _, l := range ls {
		n := 0
		for _, d := range l.DependsOn {
			if g[d]+1 > n {
				n = g[d] + 1
			}
		}
		g[l.Dir] = n
	}
	return g
}

// whenModified mirrors what makes a layer "changed" in the layer model: any file in
// the layer, in a local module it calls (transitively), or a file that configures
// every layer. Paths are relative to the project directory, as Atlantis wants them.
// Layers that depend on a changed layer are not planned with it: their plan would
// read the lower layer's state before that change is applied; depends_on makes
// Atlantis apply them in order instead.
func whenModified(l *layers.Layer) []string {
	up := toRoot(l.Path)
	out := []string{"**/*"}
	for _, m := range l.Modules {
		if m == ".." || strings.HasPrefix(m, "../") {
			continue // outside the repository: no pull request can change it
		}
		out = append(out, path.Join(up, m)+"/**/*")
	}
	for _, f := range []string{repoconfig.FileName, ".tflint.hcl"} {
		out = append(out, path.Join(up, f))
	}
	return out
}

// toRoot is the relative path from a repository-relative directory to the root.
func toRoot(dir string) string {
	dir = path.Clean(dir)
	if dir == "." {
		return "."
	}
	return strings.TrimSuffix(strings.Repeat("../", strings.Count(dir, "/")+1), "/")
}

// StaleError says the committed file differs from what the layer model produces.
type StaleError struct {
	Missing bool
	Line    int    // first line that differs (1-based)
	Want    string // that line as generated
	Got     string // that line as committed
}

func (e *StaleError) Error() string {
	if e.Missing {
		return FileName + " is missing: run \"infra atlantis-config\" and commit it"
	}
	return fmt.Sprintf("%s is out of date with the layers (line %d: want %q, have %q): run \"infra atlantis-config\" and commit it",
		FileName, e.Line, e.Want, e.Got)
}

// Check compares a committed atlantis.yaml (nil when the file does not exist) with
// the generated one and returns a *StaleError when they differ.
func Check(committed, generated []byte) error {
	if committed == nil {
		return &StaleError{Missing: true}
	}
	if bytes.Equal(committed, generated) {
		return nil
	}
	have := strings.Split(string(committed), "\n")
	want := strings.Split(string(generated), "\n")
	for i := 0; ; i++ {
		var h, w string
		if i < len(have) {
			h = have[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if h != w || i >= len(have) || i >= len(want) {
			return &StaleError{Line: i + 1, Want: w, Got: h}
		}
	}
}
