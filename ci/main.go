// Infra runs the checks of a layered Terraform repository (format, tflint, validate
// per layer) in containers, with the same stage definitions as the native CLI.
//
//	dagger call validate --layer all
//	dagger call report --format markdown
//	dagger call layers
//
// One file per capability: this one holds the module's object, its constructor
// and what every capability shares; validate.go the checks.
package main

import (
	"fmt"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
)

// Infra is the module's single object: a repository and how to check it.
type Infra struct {
	// The repository root, without .git.
	Source *dagger.Directory
	// The repository's .git directory, for --layer changed only; nil when absent.
	// +private
	GitDir *dagger.Directory
	// Directory holding the N.name layers; empty means infra.hcl's, else "terraform".
	LayersDir string
	// "terraform" or "tofu"; empty means infra.hcl's, else "terraform".
	Engine string
	// The pull request's base branch, as GitHub Actions' GITHUB_BASE_REF.
	// +private
	GithubBaseRef string
	// The environment (infra.hcl's environment blocks): its layers and the shared ones.
	// +private
	Env string

	// The state backend, variables and masks of plan, apply, drift and unlock.
	// +private
	BackendConfig *dagger.Secret
	// +private
	LockTimeout string
	// +private
	VarFile *dagger.Secret
	// +private
	Mask []*dagger.Secret
}

// WithBackend sets the state backend of plan, apply, drift and unlock.
func (m *Infra) WithBackend(
	// The content of a -backend-config file: backend settings and credentials (e.g. env://BACKEND_CONFIG).
	backendConfig *dagger.Secret,
	// How long to wait for a state lock held by another run (e.g. 5m).
	// +optional
	// +default="0s"
	lockTimeout string,
) *Infra {
	c := *m
	c.BackendConfig, c.LockTimeout = backendConfig, lockTimeout
	return &c
}

// WithVars sets the layers' variables for plan, apply and drift.
func (m *Infra) WithVars(
	// The content of a .tfvars or .tfvars.json file (e.g. env://TF_VARS).
	tfVars *dagger.Secret,
) *Infra {
	c := *m
	c.VarFile = tfVars
	return &c
}

// WithMask adds values to mask in every report, besides the backend's credentials
// and the values the engine marks sensitive.
func (m *Infra) WithMask(
	// The values, as secrets (e.g. env://DB_PASSWORD).
	mask []*dagger.Secret,
) *Infra {
	c := *m
	c.Mask = append(append([]*dagger.Secret{}, m.Mask...), mask...)
	return &c
}

// New takes the repository to check, by default the one dagger is called from.
func New(
	// The repository root (default: where dagger is called); .git, .terraform and state files are left out, so a commit that changes no checked file keeps every check cached.
	// +defaultPath="/"
	// +ignore=["**/.terraform", "**/*.tfstate", "**/*.tfstate.backup", "**/node_modules", ".dagger", ".git"]
	source *dagger.Directory,
	// The repository's .git directory, read only by --layer changed (default: the caller's .git).
	// +defaultPath="/.git"
	// +optional
	gitDir *dagger.Directory,
	// Directory holding the N.name layers (default: infra.hcl's layers_dir, else terraform).
	// +optional
	layersDir string,
	// Engine: terraform or tofu (default: infra.hcl's engine, else terraform).
	// +optional
	engine string,
	// The pull request's base branch, which a module cannot read from the environment: pass $GITHUB_BASE_REF.
	// +optional
	githubBaseRef string,
	// Only the shared layers and this environment's (infra.hcl's environment blocks); plan, apply, drift and unlock need it when a selected layer differs by environment.
	// +optional
	env string,
) (*Infra, error) {
	if engine != "" && engine != "terraform" && engine != "tofu" {
		return nil, fmt.Errorf("unknown engine %q: use terraform or tofu", engine)
	}
	if layersDir != "" {
		var err error
		if layersDir, err = repoconfig.CleanRel("--layers-dir", layersDir); err != nil {
			return nil, err
		}
	}
	return &Infra{Source: source, GitDir: gitDir, LayersDir: layersDir, Engine: engine, GithubBaseRef: githubBaseRef, Env: env}, nil
}

func render(rep *report.Report, format string) (string, error) {
	var b strings.Builder
	err := report.Render(&b, rep, format)
	return b.String(), err
}
