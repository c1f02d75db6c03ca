package app

import (
	"context"
	"errors"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
)

// FlashOptions are flash's options: the checks, and where to report them.
type FlashOptions struct {
	Check  CheckOptions
	Target prloop.Target // resolved by the door from its flags and the event
	// AtlantisUsers are the accounts whose comments are Atlantis's; empty: any bot.
	AtlantisUsers []string
}

// FlashResult is a flash run's checks and what was posted (or would have been).
type FlashResult struct {
	*CheckResult
	Posted prloop.FlashResult
	// PostErr is the forge failing after the checks ran: the report is still
	// the run's to show.
	PostErr error
}

// Flash checks the selected layers, then keeps the PR's infra-flash comment and
// the per-layer checks up to date.
func Flash(ctx context.Context, repo Repo, o FlashOptions, client *forge.Client, ex Checker, out Sink) (*FlashResult, error) {
	t := o.Target
	if t.SHA == "" && t.PR == 0 {
		// Said before the checks run, not after minutes of them.
		if t.Event != nil {
			return nil, BadInput("no commit: the %s event names no pull request or commit; pass --sha or --pr", t.Event.Name)
		}
		return nil, BadInput("no commit: pass --sha (or --pr, or an event)")
	}
	checked, err := Check(ctx, repo, o.Check, ex, out)
	if err != nil {
		return nil, err
	}
	posted, err := prloop.Flash(ctx, client, prloop.FlashInput{Target: t, Report: checked.Report, Layers: checked.Model.Set.Layers,
		AtlantisUsers: o.AtlantisUsers, CommentMode: checked.Model.Config.PRAutomation == repoconfig.PRComments, Log: out.log()})
	return &FlashResult{CheckResult: checked, Posted: posted, PostErr: ForgeError(err)}, nil
}

// KickOptions are kick-atlantis's options.
type KickOptions struct {
	Settings
	Selection
	Target prloop.Target
}

// Kick asks Atlantis to plan each selected layer, once per commit. The result
// says whether a check of this commit failed (exit 1) or what was skipped.
func Kick(ctx context.Context, repo Repo, o KickOptions, client *forge.Client, out Sink) (prloop.KickResult, error) {
	m, err := Load(repo, o.Settings)
	if err != nil {
		return prloop.KickResult{}, err
	}
	selected, err := m.Select(ctx, repo, o.Selection)
	if err != nil {
		return prloop.KickResult{}, err
	}
	res, err := prloop.Kick(ctx, client, o.Target, selected, o.Env, out.log())
	return res, ForgeError(err)
}

// ForgeError maps the PR loop's errors to exit codes: what the caller passed is
// bad input; the forge failing or refusing is a service that could not run.
func ForgeError(err error) error {
	if err == nil {
		return nil
	}
	var in *forge.InputError
	var ev *actions.EventError
	if errors.As(err, &in) || errors.As(err, &ev) {
		return &Error{Code: report.ExitBadInput, Msg: err.Error()}
	}
	return &Error{Code: report.ExitToolError, Msg: err.Error()}
}
