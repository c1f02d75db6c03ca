package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// ghArgs are the GitHub arguments every PR-loop function takes, as the native
// CLI's flags. The module cannot see the runner's environment: pass --repo and
// --run-url, or --event with --event-name, explicitly.
type ghArgs struct {
	repo, sha, apiURL, runURL, eventName string
	pr, appID, installationID            int
	dryRun                               bool
	event                                *dagger.File
	token, appKey                        *dagger.Secret
}

// connect resolves the target and builds the client; what a dry run would send
// and the client's log lines go to out.
func (a ghArgs) connect(ctx context.Context, out *strings.Builder) (prloop.Target, *forge.Client, error) {
	f := prloop.Flags{Repo: a.repo, PR: a.pr, SHA: a.sha, APIURL: a.apiURL, RunURL: a.runURL, EventName: a.eventName, DryRun: a.dryRun}
	if a.event != nil {
		data, err := a.event.Contents(ctx)
		if err != nil {
			return prloop.Target{}, nil, fmt.Errorf("reading --event: %w", err)
		}
		f.EventData = []byte(data)
	}
	t, err := prloop.Resolve(f, actions.Env{})
	if err != nil {
		return t, nil, err
	}
	o := forge.Options{APIURL: t.APIURL, Log: func(s string) { out.WriteString(s + "\n") }}
	if a.dryRun {
		o.DryRun = out
	}
	switch {
	case a.appID != 0:
		if a.appKey == nil {
			return t, nil, errors.New("--app-id needs --app-key (the App's private key, a secret)")
		}
		key, err := a.appKey.Plaintext(ctx)
		if err != nil {
			return t, nil, fmt.Errorf("reading --app-key: %w", err)
		}
		o.App = &forge.App{ID: int64(a.appID), InstallationID: int64(a.installationID), PrivateKey: []byte(key)}
	case a.token != nil:
		tok, err := a.token.Plaintext(ctx)
		if err != nil {
			return t, nil, fmt.Errorf("reading --token: %w", err)
		}
		o.Token = strings.TrimSpace(tok)
	}
	c, err := forge.New(ctx, t.Repo, o)
	return t, c, err
}

// Flash checks the selected layers and reports on the PR: the one infra-flash
// comment (created once, edited in place), a check infra-flash/<layer> per layer,
// and, first in its output, one annotation per finding as workflow commands.
// It fails after posting when a check failed. --dry-run prints the requests
// instead of sending them; --summary-only returns the job summary (markdown) and
// posts nothing (append it to $GITHUB_STEP_SUMMARY).
// +cache="never"
func (m *Infra) Flash(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["changed"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// What to print after the annotations: text or json (the report), markdown (the comment).
	// +optional
	// +default="text"
	format string,
	// OWNER/NAME (default: the event's).
	// +optional
	repo string,
	// Pull request number (default: the event's).
	// +optional
	pr int,
	// Commit (default: the PR head from the event).
	// +optional
	sha string,
	// GitHub API root, for GitHub Enterprise Server or a compatible API.
	// +optional
	apiUrl string,
	// Print the requests that would change GitHub instead of sending them.
	// +optional
	dryRun bool,
	// Link to the run, shown in the comment and on the checks.
	// +optional
	runUrl string,
	// The Actions event payload ($GITHUB_EVENT_PATH).
	// +optional
	event *dagger.File,
	// The event's name ($GITHUB_EVENT_NAME).
	// +optional
	eventName string,
	// GitHub token.
	// +optional
	token *dagger.Secret,
	// GitHub App ID (with --app-key), instead of --token.
	// +optional
	appId int,
	// The App's installation (default: looked up from the repository).
	// +optional
	installationId int,
	// The App's private key (PEM).
	// +optional
	appKey *dagger.Secret,
	// Return the job summary and post nothing.
	// +optional
	summaryOnly bool,
	// Accounts whose comments are Atlantis's (default: any bot account).
	// +optional
	atlantisUser []string,
) (string, error) {
	if err := report.CheckFormat(format); err != nil {
		return "", err
	}
	args := ghArgs{repo: repo, pr: pr, sha: sha, apiURL: apiUrl, runURL: runUrl, event: event, eventName: eventName,
		dryRun: dryRun || summaryOnly, token: token, appID: appId, installationID: installationId, appKey: appKey}
	var log strings.Builder
	t, client, err := args.connect(ctx, &log)
	if err != nil {
		return "", err
	}
	rep, set, err := m.runChecks(ctx, stage.Kinds, layer, base)
	if err != nil {
		return "", err
	}
	res, err := prloop.Flash(ctx, client, prloop.FlashInput{Target: t, Report: rep, Layers: set.Layers,
		AtlantisUsers: atlantisUser, Log: func(s string) { log.WriteString(s + "\n") }})
	if summaryOnly {
		return res.Summary, err
	}
	annotations, _ := actions.Commands(res.Annotations)
	out := annotations + log.String()
	if err != nil {
		return "", fmt.Errorf("%s%w", out, err)
	}
	if format == "markdown" {
		out += res.CommentText
	} else {
		printed, err := render(rep, format)
		if err != nil {
			return "", err
		}
		out += printed
	}
	if rep.ExitCode() != report.ExitOK {
		return "", fmt.Errorf("%s\n%s", out, report.Summary(rep))
	}
	return out, nil
}

// KickAtlantis comments "atlantis plan -d <dir>" on the PR for each selected
// layer (default: the changed ones), once per commit: the commit status
// infra-flash/atlantis records it. It fails when this commit's per-layer
// check runs or statuses say a check failed.
// +cache="never"
func (m *Infra) KickAtlantis(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["changed"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// OWNER/NAME of the repository (default: from --event).
	// +optional
	repo string,
	// The pull request number (default: from --event).
	// +optional
	pr int,
	// The commit the plans are asked for (default: the pull request head from --event).
	// +optional
	sha string,
	// GitHub API root, for GitHub Enterprise Server or a compatible API.
	// +optional
	apiUrl string,
	// Print the requests that would change GitHub instead of sending them.
	// +optional
	dryRun bool,
	// Link to the run, shown with the request.
	// +optional
	runUrl string,
	// The Actions event payload ($GITHUB_EVENT_PATH).
	// +optional
	event *dagger.File,
	// The event's name ($GITHUB_EVENT_NAME).
	// +optional
	eventName string,
	// GitHub token.
	// +optional
	token *dagger.Secret,
	// GitHub App ID (with --app-key), instead of --token.
	// +optional
	appId int,
	// The App's installation (default: looked up from the repository).
	// +optional
	installationId int,
	// The App's private key (PEM).
	// +optional
	appKey *dagger.Secret,
) (string, error) {
	args := ghArgs{repo: repo, pr: pr, sha: sha, apiURL: apiUrl, runURL: runUrl, event: event, eventName: eventName,
		dryRun: dryRun, token: token, appID: appId, installationID: installationId, appKey: appKey}
	var out strings.Builder
	t, client, err := args.connect(ctx, &out)
	if err != nil {
		return "", err
	}
	set, _, err := m.discover(ctx)
	if err != nil {
		return "", err
	}
	selected, err := set.Select(layer, func() ([]string, error) { return m.changedFiles(ctx, base) })
	if err != nil {
		return "", err
	}
	res, err := prloop.Kick(ctx, client, t, selected, func(s string) { out.WriteString(s + "\n") })
	if err != nil {
		return "", fmt.Errorf("%s%w", out.String(), err)
	}
	if res.Skipped != "" {
		out.WriteString("kick-atlantis: " + res.Skipped + "\n")
	}
	if res.Failed {
		return "", errors.New(out.String())
	}
	return out.String(), nil
}

// ReviewGate decides from the event whether the AI review runs and prints
// "run=true" or "run=false" and the reason. It fails only on an unreadable event.
func (m *Infra) ReviewGate(
	ctx context.Context,
	// The Actions event payload ($GITHUB_EVENT_PATH).
	event *dagger.File,
	// The event's name ($GITHUB_EVENT_NAME).
	eventName string,
	// OWNER/NAME (default: the event's).
	// +optional
	repo string,
	// The account Atlantis comments as.
	// +optional
	// +default="infra-flash[bot]"
	bot string,
) (string, error) {
	data, err := event.Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("reading --event: %w", err)
	}
	t, err := prloop.Resolve(prloop.Flags{Repo: repo, EventData: []byte(data), EventName: eventName}, actions.Env{})
	if err != nil {
		return "", err
	}
	d, err := prloop.ReviewGate(t, bot)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("run=%t\nreason=%s\n", d.Run, actions.OneLine(d.Reason)), nil
}
