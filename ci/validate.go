package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Layers lists the layers in apply order with their dependencies, as text, JSON
// or a mermaid graph.
func (m *Infra) Layers(
	ctx context.Context,
	// Output format: text, json or mermaid.
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
	// What the native CLI says beside the list: directories that are not layers, and why.
	for _, sk := range set.Skipped {
		fmt.Fprintf(os.Stderr, "%s is not a layer: %s\n", sk.Path, sk.Reason)
	}
	for _, w := range set.Warnings {
		fmt.Fprintln(os.Stderr, "warning: "+w)
	}
	var b strings.Builder
	err = report.RenderLayers(&b, set, format)
	return b.String(), err
}

// Validate runs format, lint and validate on the selected layers; when a check
// fails it prints the report and fails.
//
// +cache="session"
func (m *Infra) Validate(
	ctx context.Context,
	// Layers to check: all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// Report format: text, markdown or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, "validate", stage.Kinds, layer, base, format)
}

// Fmt runs only the format check.
//
// +cache="session"
func (m *Infra) Fmt(
	ctx context.Context,
	// Layers to check: all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// Report format: text, markdown or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, "fmt", []stage.Kind{stage.Format}, layer, base, format)
}

// Lint runs only tflint.
//
// +cache="session"
func (m *Infra) Lint(
	ctx context.Context,
	// Layers to check: all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// Report format: text, markdown or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	return m.gate(ctx, "lint", []stage.Kind{stage.Lint}, layer, base, format)
}

// Report runs every check and returns the report without failing on findings, for
// jobs that publish it (a PR comment, a job summary).
//
// +cache="session"
func (m *Infra) Report(
	ctx context.Context,
	// Layers to check: all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// Report format: text, markdown or json.
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
//
// +check
// +cache="session"
func (m *Infra) All(ctx context.Context) error {
	_, err := m.gate(ctx, "check", stage.Kinds, []string{layers.All}, "", "text")
	return err
}

// gate returns the report when every check passed. Otherwise it prints the report
// once on the function's output (what a CI log shows) and fails with a one-line
// error that does not repeat it.
func (m *Infra) gate(ctx context.Context, name string, kinds []stage.Kind, layer []string, base, format string) (string, error) {
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
	code := rep.ExitCode()
	if code == report.ExitOK {
		return out, nil
	}
	fmt.Fprint(os.Stdout, out)
	verdict := "a check failed"
	if code == report.ExitToolError {
		verdict = "a tool could not run"
	}
	if format == "text" { // the report's last line is the summary already
		return "", fmt.Errorf("%s: %s (exit code %d); the report is above", name, verdict, code)
	}
	return "", fmt.Errorf("%s: %s (exit code %d); the report is above", name, report.Summary(rep), code)
}

// run checks the selected layers, each (layer, stage) in a container that holds
// only what that stage reads.
func (m *Infra) run(ctx context.Context, kinds []stage.Kind, layer []string, base string) (*report.Report, error) {
	res, err := m.runChecks(ctx, kinds, layer, base)
	if err != nil {
		return nil, err
	}
	return res.Report, nil
}

// runChecks runs the check use case with containers as its executor.
func (m *Infra) runChecks(ctx context.Context, kinds []stage.Kind, layer []string, base string) (*usecase.CheckResult, error) {
	dir, err := m.exportHCL(ctx)
	if err != nil {
		return nil, err
	}
	defer dir.close()
	opts := usecase.CheckOptions{Settings: m.settings(), Selection: m.selection(layer, base), Kinds: kinds}
	return usecase.Check(ctx, m.repo(ctx, dir.fsys), opts, containerChecker{src: m.Source, fsys: dir.fsys}, sink())
}

// containerChecker runs the stages in the pinned tool images.
type containerChecker struct {
	src  *dagger.Directory
	fsys fs.FS
}

func (c containerChecker) Open(_ context.Context, run usecase.CheckRun) (*usecase.CheckSession, error) {
	runner := newContainerRunner(c.src, run.Model.Engine, toolchain.Pinned(), stageInputs(c.fsys, run.Selected, run.Kinds))
	return &usecase.CheckSession{Runner: runner, Annotate: func(rep *report.Report) {
		for _, lr := range rep.Layers {
			for k, res := range lr.Results {
				res.Cached = runner.replayed(stageSessions(lr.Layer, k))
				lr.Results[k] = res
			}
		}
	}}, nil
}
