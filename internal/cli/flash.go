package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/prloop"
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
	if t.SHA == "" && t.PR == 0 {
		// Said before the checks run, not after minutes of them.
		if t.Event != nil {
			return a.badInput("no commit: the %s event names no pull request or commit; pass --sha or --pr", t.Event.Name)
		}
		return a.badInput("no commit: pass --sha (or --pr, or an event)")
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
	checked, err := a.runChecks(ctx, &o.checkOptions, stage.Kinds)
	if err != nil {
		return err
	}
	rep := checked.Report
	res, err := prloop.Flash(ctx, client, prloop.FlashInput{Target: t, Report: rep, Layers: checked.Model.Set.Layers,
		AtlantisUsers: o.atlantisUsers, Log: func(s string) { a.progress("%s", s) }})
	if o.summaryOnly {
		if err != nil {
			return githubError(err)
		}
		_, werr := io.WriteString(a.stdout, res.Summary)
		if werr != nil {
			return a.toolError(werr)
		}
		return nil
	}
	// The runner gets its summary and annotations even when GitHub failed us.
	rt := a.runtime()
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
		return githubError(err)
	}
	if o.format == "markdown" {
		if _, err := fmt.Fprint(a.stdout, res.CommentText); err != nil {
			return a.toolError(err)
		}
		return exit(rep.ExitCode())
	}
	return a.render(o.format, rep)
}
