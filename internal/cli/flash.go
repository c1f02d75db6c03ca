package cli

import (
	"fmt"
	"io"
	"os"

	usecase "github.com/infra-flash/infra/internal/app"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

type flashOptions struct {
	checkOptions
	githubFlags
	summaryOnly   bool
	atlantisUsers []string
}

func (a *app) flashCommand() *cobra.Command {
	o := &flashOptions{}
	c := &cobra.Command{
		Use:   "flash",
		Short: "check the layers and report on the PR: the infra-flash comment, per-layer checks, job summary, annotations",
		Long: `flash runs format, lint and validate on the selected layers (default: the changed
ones), then keeps the PR's one infra-flash comment up to date (created once, edited
in place), sets a check infra-flash/<layer> per layer on the commit, and in GitHub
Actions writes the job summary and one annotation per finding. It exits 1 when a
check failed, after posting. With --dry-run it prints the requests instead.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.flash(c, o) },
	}
	o.selection.addFlags(c, layers.Changed)
	o.githubFlags.addFlags(c)
	c.Flags().StringVar(&o.format, "format", "text", "what to print: text or json (the report), markdown (the comment as posted)")
	c.Flags().IntVar(&o.concurrency, "concurrency", 0, "stages run at once (default: cores + 1)")
	o.checkOptions.addToolFlags(c)
	c.Flags().BoolVar(&o.summaryOnly, "summary-only", false, "print the job summary (markdown) and post nothing")
	c.Flags().StringSliceVar(&o.atlantisUsers, "atlantis-user", nil, "accounts whose comments are Atlantis's (default: any bot account)")
	return c
}

func (a *app) flash(c *cobra.Command, o *flashOptions) error {
	if report.CheckFormat(o.format) != nil {
		return a.badInput("unknown --format %q: use text, markdown or json", o.format)
	}
	ctx := c.Context()
	t, err := a.target(&o.githubFlags)
	if err != nil {
		return err
	}
	dryOut := a.dryOut(o.format)
	if o.summaryOnly {
		// Reads only (the summary shows Atlantis's status too); the requests it
		// would send are not printed, so stdout is the summary alone.
		o.DryRun, dryOut = true, io.Discard
	}
	client, err := a.client(ctx, &o.githubFlags, t, dryOut)
	if err != nil {
		return err
	}
	flashed, err := usecase.Flash(ctx, a.repo(), usecase.FlashOptions{Check: a.checkOptions(&o.checkOptions, stage.Kinds),
		Target: t, AtlantisUsers: o.atlantisUsers}, client, a.hostChecker(&o.checkOptions), a.sink())
	if err != nil {
		return a.fail(err)
	}
	rep, res, err := flashed.Report, flashed.Posted, flashed.PostErr
	if o.summaryOnly {
		if err != nil {
			return a.fail(err)
		}
		_, werr := io.WriteString(a.stdout, res.Summary)
		if werr != nil {
			return a.toolError(werr)
		}
		return nil
	}
	// The runner gets its summary and annotations even when GitHub failed us.
	// It reads workflow commands from stderr too: with --format json they go
	// there, so stdout stays one JSON document.
	rt := actions.New(os.Getenv, a.dryOut(o.format))
	if rt.Active() {
		if _, serr := rt.Summary(res.Summary); serr != nil {
			a.progress("infra: job summary: %v", serr)
		}
		omitted, aerr := rt.Annotate(res.Annotations)
		if aerr != nil {
			a.progress("infra: annotations: %v", aerr)
		} else if omitted > 0 {
			a.progress("infra: %d finding(s) not annotated (GitHub's limit per step); the job summary has them all", omitted)
		}
	}
	if err != nil {
		// The checks ran: their report is printed before saying GitHub failed us.
		if rerr := report.Render(a.stdout, rep, o.format); rerr != nil {
			a.progress("infra: writing the report: %v", rerr)
		}
		return a.fail(err)
	}
	if o.format == "markdown" {
		if _, err := fmt.Fprint(a.stdout, res.CommentText); err != nil {
			return a.toolError(err)
		}
		return exit(rep.ExitCode())
	}
	return a.render(o.format, rep)
}
