package cli

import (
	"context"

	"github.com/spf13/cobra"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/app/host"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// checkOptions are the flags of validate, fmt and lint.
type checkOptions struct {
	selection
	format         string
	concurrency    int
	providerMirror string
	noCache        bool
}

// checkCommands are validate (every stage) and fmt and lint (one stage each).
func (a *app) checkCommands() []*cobra.Command {
	return []*cobra.Command{
		a.checkCommand("validate", "format, lint and validate each layer", stage.Kinds),
		a.checkCommand("fmt", "only the format check", []stage.Kind{stage.Format}),
		a.checkCommand("lint", "only tflint", []stage.Kind{stage.Lint}),
	}
}

func (a *app) checkCommand(name, short string, kinds []stage.Kind) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  noArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return a.check(c, o, kinds) },
	}
	o.addFlags(c, layers.All)
	c.Flags().StringVar(&o.format, "format", "text", "text, markdown or json")
	c.Flags().IntVar(&o.concurrency, "concurrency", 0, "stages run at once (default: cores + 1)")
	o.addToolFlags(c)
	return c
}

// addToolFlags adds the flags of how the stages run: where providers come from
// and whether earlier results are reused (every command that runs checks).
func (o *checkOptions) addToolFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.providerMirror, "provider-mirror", "",
		"install the providers this filesystem mirror has from it, the others as usual "+
			"(default: $"+toolchain.MirrorEnv+", else infra.hcl's provider_mirror, else none: providers install as terraform init does)")
	cacheFlags(c, &o.noCache)
}

func (a *app) check(c *cobra.Command, o *checkOptions, kinds []stage.Kind) error {
	res, err := a.runChecks(c.Context(), o, kinds)
	if err != nil {
		return err
	}
	return a.render(o.format, res.Report)
}

// runChecks runs the stages on the selected layers with host binaries.
func (a *app) runChecks(ctx context.Context, o *checkOptions, kinds []stage.Kind) (*usecase.CheckResult, error) {
	res, err := usecase.Check(ctx, a.repo(), a.checkOptions(o, kinds), a.hostChecker(o), a.sink())
	return res, a.fail(err)
}

// checkOptions translates the check flags into the use case's options.
func (a *app) checkOptions(o *checkOptions, kinds []stage.Kind) usecase.CheckOptions {
	return usecase.CheckOptions{Settings: a.settings(), Selection: o.selection.value(), Kinds: kinds,
		Concurrency: o.concurrency, Format: o.format}
}

// hostChecker runs the checks with the host's tools.
func (a *app) hostChecker(o *checkOptions) host.Checker {
	return host.Checker{Source: a.source, Mirror: o.providerMirror, NoCache: o.noCache, Out: a.sink()}
}

// render writes the report on stdout and ends with the report's exit code.
func (a *app) render(format string, rep *report.Report) error {
	if err := report.Render(a.stdout, rep, format); err != nil {
		return &exitError{code: report.ExitToolError, msg: "infra: writing the report: " + err.Error()}
	}
	return exit(rep.ExitCode())
}
