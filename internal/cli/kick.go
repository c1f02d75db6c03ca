package cli

import (
	"fmt"

	usecase "github.com/infra-flash/infra/internal/app"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
)

type kickOptions struct {
	selection
	githubFlags
}

func (a *app) kickCommand() *cobra.Command {
	o := &kickOptions{}
	c := &cobra.Command{
		Use:   "kick-atlantis",
		Short: "ask Atlantis to plan the changed layers, once per commit",
		Long: `kick-atlantis comments "atlantis plan -d <dir>" on the PR for each selected layer
(default: the changed ones), in apply order, once per commit: a commit status
infra-flash/atlantis records the request, so reruns do not ask again. It refuses
(exit 1) when this commit's infra-flash/<layer> check runs or statuses say a check
failed.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.kick(c, o) },
	}
	o.selection.addFlags(c, layers.Changed)
	o.githubFlags.addFlags(c)
	return c
}

func (a *app) kick(c *cobra.Command, o *kickOptions) error {
	ctx := c.Context()
	t, err := a.target(&o.githubFlags)
	if err != nil {
		return err
	}
	client, err := a.client(ctx, &o.githubFlags, t, a.stdout)
	if err != nil {
		return err
	}
	res, err := usecase.Kick(ctx, a.repo(), usecase.KickOptions{Settings: a.settings(), Selection: o.selection.value(), Target: t},
		client, a.sink())
	if err != nil {
		return a.fail(err)
	}
	if res.Skipped != "" {
		fmt.Fprintln(a.stderr, "kick-atlantis: "+res.Skipped)
	}
	if res.Failed {
		return exit(report.ExitFailed)
	}
	return nil
}
