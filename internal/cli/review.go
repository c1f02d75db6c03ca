package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/review"
)

func (a *app) reviewGateCommand() *cobra.Command {
	var g githubFlags
	var bot string
	c := &cobra.Command{
		Use:   "review-gate",
		Short: "decide from the event whether the AI review runs",
		Long: `review-gate reads the Actions event and prints run=true or run=false and the
reason; in GitHub Actions it also sets the step outputs run and reason. A review
runs for /review, @claude or PTAL from an OWNER, MEMBER or COLLABORATOR on a PR,
or for the Atlantis bot's comment reporting a successful plan. It exits 0 either
way, and 2 when the event cannot be read.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			t, err := a.target(&g)
			if err != nil {
				return err
			}
			d, err := prloop.ReviewGate(t, bot)
			if err != nil {
				return githubError(err)
			}
			reason := actions.OneLine(d.Reason)
			if _, err := fmt.Fprintf(a.stdout, "run=%t\nreason=%s\n", d.Run, reason); err != nil {
				return a.toolError(err)
			}
			rt := a.runtime()
			for _, kv := range [][2]string{{"run", fmt.Sprint(d.Run)}, {"reason", reason}} {
				if _, err := rt.Output(kv[0], kv[1]); err != nil {
					return &exitError{code: report.ExitToolError, msg: "infra: " + err.Error()}
				}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&g.EventPath, "event", "", "the Actions event payload file (default: GITHUB_EVENT_PATH)")
	f.StringVar(&g.EventName, "event-name", "", "the event's name, e.g. issue_comment (default: GITHUB_EVENT_NAME)")
	f.StringVar(&g.Repo, "repo", "", "OWNER/NAME (default: GITHUB_REPOSITORY, else the event's)")
	f.StringVar(&bot, "bot", review.DefaultBot, "the account Atlantis comments as")
	return c
}
