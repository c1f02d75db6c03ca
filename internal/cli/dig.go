package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
)

type digOptions struct {
	githubFlags
	in         dig.Input
	layer      []string
	env        string
	cacert     string
	catalog    string
	showDomain bool
}

func (a *app) digCommand() *cobra.Command {
	o := &digOptions{}
	c := &cobra.Command{
		Use:   "dig",
		Short: "probe every documented service over HTTPS and report who answers",
		Long: `dig probes the services of the catalog (services.hcl) under --domain, all at once
(bounded), with an HTTPS GET following up to 5 redirects, and classifies each answer:
✅ 200, 🔒 401/403, ❔ 404, ⚠️ 503/526 or a TLS failure, ❌ 502/504, ⛔ timeout or
unreachable; other codes as themselves. A service is healthy when it gives the answer
its catalog entry expects. A redirect from HTTPS to plain HTTP is not followed: ⚠️,
unhealthy. Markdown, and every output on a pull request, shows the domain as
${BASE_DOMAIN} unless --show-domain.

With --pr N, or on an issue_comment event (--event, or the Actions environment),
it answers on the pull request: a /dig comment from an OWNER, MEMBER or
COLLABORATOR gets "Testing connectivity…" at once, edited into the results when
the probes end; any other comment is skipped with the reason (exit 0). --dry-run
prints the requests instead.

Exit codes: 0 every service healthy (or skipped), 1 some not, 2 bad input,
3 GitHub could not be reached.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.dig(c, o) },
	}
	f := c.Flags()
	f.StringVar(&o.in.Domain, "domain", "", "base domain the services live under (default: $BASE_DOMAIN)")
	f.StringVar(&o.env, "env", "", "the environment whose services to probe, with the shared layers' (its domain is the default --domain)")
	f.StringSliceVar(&o.layer, "layer", []string{layers.All}, "all, or layers by directory (2.platform), name (platform) or ID (L2); repeat or separate with commas")
	f.StringVar(&o.in.Timeout, "timeout", dig.DefaultTimeout.String(), "time each service has to answer")
	f.StringArrayVar(&o.in.ConnectTo, "connect-to", nil, "HOST:PORT:ADDR:PORT: connect there instead, as curl (empty HOST or PORT matches any); repeatable")
	f.StringVar(&o.cacert, "cacert", "", "PEM file of a CA to trust besides the system's (a private or local CA)")
	f.BoolVar(&o.showDomain, "show-domain", false, "show the base domain in markdown and on pull requests instead of ${BASE_DOMAIN}")
	f.StringVar(&o.in.Format, "format", "text", "text, markdown or json")
	f.IntVar(&o.in.Concurrency, "concurrency", dig.DefaultConcurrency, "services probed at once")
	f.StringVar(&o.catalog, "catalog", catalog.FileName, "the services catalog, relative to --source")
	o.githubFlags.addFlags(c)
	return c
}

func (a *app) dig(c *cobra.Command, o *digOptions) error {
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return a.badInput("--cacert: %v", err)
		}
		o.in.CACert, o.in.CACertName = pem, o.cacert
	}
	run, err := usecase.PlanDig(a.repo(), usecase.DigOptions{Settings: a.settings(), Input: o.in, Layers: o.layer,
		Env: o.env, Catalog: o.catalog, Getenv: os.Getenv})
	if err != nil {
		return a.fail(err)
	}
	domain, services, opts := run.Domain, run.Services, run.Options
	onPR := o.PR != 0 || o.EventPath != "" || a.runtime().Env().EventName == "issue_comment"
	mask := dig.MaskDomain(o.in.Format, o.showDomain, onPR)
	shown := domain
	if mask {
		shown = catalog.DomainPlaceholder
	}
	if !a.quiet {
		opts.OnResult = func(r dig.Result) {
			line := fmt.Sprintf("  %s %s: %s (%dms)", r.Service.LayerID, r.Service.Name, r.Status(), r.Duration.Milliseconds())
			if mask {
				line = dig.Mask(line, domain)
			}
			a.progress("%s", line)
		}
	}
	probe := func(ctx context.Context) *dig.Report {
		a.progress("probing %d service(s) under %s, %s each", len(services), shown, opts.Timeout)
		return dig.Probe(ctx, domain, services, opts)
	}
	var rep *dig.Report
	if onPR {
		if rep, err = a.digOnPR(c.Context(), o, probe); err != nil || rep == nil {
			return err
		}
	} else {
		rep = probe(c.Context())
	}
	if err := dig.Render(a.stdout, rep, o.in.Format, mask); err != nil {
		return a.toolError(err)
	}
	return exit(rep.ExitCode())
}

// digOnPR answers on the pull request; a nil report means the event was skipped.
func (a *app) digOnPR(ctx context.Context, o *digOptions, probe func(context.Context) *dig.Report) (*dig.Report, error) {
	t, err := a.target(&o.githubFlags)
	if err != nil {
		return nil, err
	}
	if skip := dig.Skip(t.Event); skip != "" {
		a.progress("infra dig: skipped: %s", skip)
		return nil, nil
	}
	if t.PR == 0 {
		return nil, a.badInput("the /dig flow answers on a pull request: pass --pr N (or run on its issue_comment event)")
	}
	client, err := a.client(ctx, &o.githubFlags, t, a.dryOut(o.in.Format))
	if err != nil {
		return nil, err
	}
	rep, err := dig.OnPR(ctx, forge.Live(client, t.PR, dig.Marker, forge.Stamp{SHA: t.SHA}), o.showDomain, t.RunURL, probe)
	if err != nil {
		return nil, githubError(err)
	}
	return rep, nil
}
