// Infra runs the checks of a layered Terraform repository (format, tflint, validate
// per layer) in containers, with the same stage definitions as the native CLI.
//
//	dagger call validate --layer all
//	dagger call report --format markdown
//	dagger call layers
package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Infra is the module's single object: a repository and how to check it.
type Infra struct {
	// The repository root.
	Source *dagger.Directory
	// Directory holding the N.name layers; empty means infra.hcl's, else "terraform".
	LayersDir string
	// "terraform" or "tofu"; empty means infra.hcl's, else "terraform".
	Engine string
}

// New takes the repository to check, by default the one dagger is called from.
func New(
	// The repository root. Terraform's working directories and state are never
	// uploaded; .git is kept (for --layer changed) and dropped before any tool runs,
	// so commits do not invalidate the checks' cache.
	// +defaultPath="/"
	// +ignore=["**/.terraform", "**/*.tfstate", "**/*.tfstate.backup", "**/node_modules", ".dagger", "!.git"]
	source *dagger.Directory,
	// Directory holding the N.name layers (default: infra.hcl's layers_dir, else terraform).
	// +optional
	layersDir string,
	// Engine: terraform or tofu (default: infra.hcl's engine, else terraform).
	// +optional
	engine string,
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
	return &Infra{Source: source, LayersDir: layersDir, Engine: engine}, nil
}

// Layers lists the layers in apply order with their dependencies, as text, JSON
// or a mermaid graph.
func (m *Infra) Layers(
	ctx context.Context,
	// text, json or mermaid.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	if !slices.Contains(report.LayerFormats, format) {
		return "", fmt.Errorf("unknown --format %q for layers: use text, json or mermaid", format)
	}
	set, _, err := m.discover(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = report.RenderLayers(&b, set, format)
	return b.String(), err
}

// Validate runs format, lint and validate on the selected layers and fails when a
// check fails, printing the report.
func (m *Infra) Validate(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with.
	// +optional
	// +default="origin/main"
	base string,
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, stage.Kinds, layer, base, format)
}

// Fmt runs only the format check.
func (m *Infra) Fmt(
	ctx context.Context,
	// +optional
	// +default=["all"]
	layer []string,
	// +optional
	// +default="origin/main"
	base string,
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, []stage.Kind{stage.Format}, layer, base, format)
}

// Lint runs only tflint.
func (m *Infra) Lint(
	ctx context.Context,
	// +optional
	// +default=["all"]
	layer []string,
	// +optional
	// +default="origin/main"
	base string,
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, []stage.Kind{stage.Lint}, layer, base, format)
}

// Report runs every check and returns the report without failing on findings, for
// jobs that publish it (a PR comment, a job summary).
func (m *Infra) Report(
	ctx context.Context,
	// +optional
	// +default=["all"]
	layer []string,
	// +optional
	// +default="origin/main"
	base string,
	// text, markdown or json.
	// +optional
	// +default="markdown"
	format string,
) (string, error) {
	if err := report.CheckFormat(format); err != nil {
		return "", err
	}
	rep, err := m.run(ctx, stage.Kinds, layer, base)
	if err != nil {
		return "", err
	}
	return render(rep, format)
}

// All checks every layer: the module's check for `dagger check`.
// +check
func (m *Infra) All(ctx context.Context) error {
	_, err := m.gate(ctx, stage.Kinds, []string{layers.All}, "", "text")
	return err
}

func (m *Infra) gate(ctx context.Context, kinds []stage.Kind, layer []string, base, format string) (string, error) {
	if err := report.CheckFormat(format); err != nil {
		return "", err
	}
	rep, err := m.run(ctx, kinds, layer, base)
	if err != nil {
		return "", err
	}
	out, err := render(rep, format)
	if err != nil {
		return "", err
	}
	if rep.ExitCode() != report.ExitOK {
		return "", fmt.Errorf("%s\n%s", out, report.Summary(rep))
	}
	return out, nil
}

func (m *Infra) run(ctx context.Context, kinds []stage.Kind, layer []string, base string) (*report.Report, error) {
	rep, _, err := m.runChecks(ctx, kinds, layer, base)
	return rep, err
}

// runChecks also returns the whole layer set, for the PR comment's graph.
func (m *Infra) runChecks(ctx context.Context, kinds []stage.Kind, layer []string, base string) (*report.Report, *layers.Set, error) {
	set, cfg, err := m.discover(ctx)
	if err != nil {
		return nil, nil, err
	}
	selected, err := set.Select(layer, func() ([]string, error) { return m.changedFiles(ctx, base) })
	if err != nil {
		return nil, nil, err
	}
	engine := cfg.EngineFor(m.Engine)
	runner := newContainerRunner(m.Source.WithoutDirectory(".git"), engine, toolchain.Pinned())
	return pipeline.Run(ctx, selected, runner, pipeline.Options{Engine: engine, Stages: kinds}), set, nil
}

func render(rep *report.Report, format string) (string, error) {
	var b strings.Builder
	err := report.Render(&b, rep, format)
	return b.String(), err
}
