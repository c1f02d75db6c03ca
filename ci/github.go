package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	usecase "github.com/infra-flash/infra/internal/app"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/report"
)

// Github is where the PR loop reports: a repository on GitHub, GitHub Enterprise
// Server or a compatible API, the credentials, and the Actions event. Declared once,
// chained into every function that talks to it:
//
//	dagger call github --token env://GITHUB_TOKEN --event $GITHUB_EVENT_PATH --event-name $GITHUB_EVENT_NAME flash
//
// The module cannot see the runner's environment: pass --repo and --run-url, or
// --event with --event-name, explicitly.
type Github struct {
	// +private
	Infra *Infra
	// +private
	Repo string
	// +private
	APIURL string
	// +private
	Token *dagger.Secret
	// +private
	AppID int
	// +private
	InstallationID int
	// +private
	AppKey *dagger.Secret
	// +private
	Event *dagger.File
	// +private
	EventName string
	// +private
	RunURL string
	// +private
	DryRun bool
}

// Github declares the forge the PR-loop functions (flash, kick-atlantis, drift
// with issues, dig on a PR, review-gate) talk to.
func (m *Infra) Github(
	// OWNER/NAME (default: the event's).
	// +optional
	repo string,
	// API root, for GitHub Enterprise Server or a compatible API (default: https://api.github.com/).
	// +optional
	apiUrl string,
	// A token (e.g. env://GITHUB_TOKEN).
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
	// The Actions event payload ($GITHUB_EVENT_PATH).
	// +optional
	event *dagger.File,
	// The event's name ($GITHUB_EVENT_NAME).
	// +optional
	eventName string,
	// Link to the run, shown in comments and on checks.
	// +optional
	runUrl string,
	// Print the requests that would change anything instead of sending them.
	// +optional
	dryRun bool,
) (*Github, error) {
	if appId != 0 && appKey == nil {
		return nil, errors.New("--app-id needs --app-key (the App's private key, a secret)")
	}
	return &Github{Infra: m, Repo: repo, APIURL: apiUrl, Token: token, AppID: appId, InstallationID: installationId,
		AppKey: appKey, Event: event, EventName: eventName, RunURL: runUrl, DryRun: dryRun}, nil
}

// connect resolves the target (pr and sha override the event's) and builds the
// client; what a dry run would send and the client's log lines go to out.
func (g *Github) connect(ctx context.Context, out *strings.Builder, pr int, sha string) (prloop.Target, *forge.Client, error) {
	return g.connectAs(ctx, out, pr, sha, g.DryRun)
}

func (g *Github) connectAs(ctx context.Context, out *strings.Builder, pr int, sha string, dryRun bool) (prloop.Target, *forge.Client, error) {
	f := prloop.Flags{Repo: g.Repo, PR: pr, SHA: sha, APIURL: g.APIURL, RunURL: g.RunURL, EventName: g.EventName, DryRun: dryRun}
	if g.Event != nil {
		data, err := g.Event.Contents(ctx)
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
	if dryRun {
		o.DryRun = out
	}
	switch {
	case g.AppID != 0:
		key, err := g.AppKey.Plaintext(ctx)
		if err != nil {
			return t, nil, fmt.Errorf("reading --app-key: %w", err)
		}
		o.App = &forge.App{ID: int64(g.AppID), InstallationID: int64(g.InstallationID), PrivateKey: []byte(key)}
	case g.Token != nil:
		tok, err := g.Token.Plaintext(ctx)
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
// It fails after posting when a check failed. --summary-only returns the job
// summary (markdown) and posts nothing (append it to $GITHUB_STEP_SUMMARY).
// +cache="never"
func (g *Github) Flash(
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
	// Pull request number (default: the event's).
	// +optional
	pr int,
	// Commit (default: the PR head from the event).
	// +optional
	sha string,
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
	var log strings.Builder
	t, client, err := g.connectAs(ctx, &log, pr, sha, g.DryRun || summaryOnly)
	if err != nil {
		return "", err
	}
	dir, err := g.Infra.exportHCL(ctx)
	if err != nil {
		return "", err
	}
	defer dir.close()
	opts := usecase.FlashOptions{Check: usecase.CheckOptions{Settings: g.Infra.settings(), Selection: g.Infra.selection(layer, base)},
		Target: t, AtlantisUsers: atlantisUser}
	flashed, err := usecase.Flash(ctx, g.Infra.repo(ctx, dir.fsys), opts, client, containerChecker{src: g.Infra.Source, fsys: dir.fsys},
		usecase.Sink{Progress: func(s string) { log.WriteString(s + "\n") }, Warn: sink().Warn})
	if err != nil {
		return "", err
	}
	rep, res, err := flashed.Report, flashed.Posted, flashed.PostErr
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
func (g *Github) KickAtlantis(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["changed"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// The pull request number (default: from --event).
	// +optional
	pr int,
	// The commit the plans are asked for (default: the pull request head from --event).
	// +optional
	sha string,
) (string, error) {
	var out strings.Builder
	t, client, err := g.connect(ctx, &out, pr, sha)
	if err != nil {
		return "", err
	}
	dir, err := g.Infra.exportHCL(ctx)
	if err != nil {
		return "", err
	}
	defer dir.close()
	res, err := usecase.Kick(ctx, g.Infra.repo(ctx, dir.fsys), usecase.KickOptions{Settings: g.Infra.settings(),
		Selection: g.Infra.selection(layer, base), Target: t}, client, usecase.Sink{Progress: func(s string) { out.WriteString(s + "\n") }})
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

// Drift checks each selected layer as `drift` does, then keeps one issue per
// layer: opened or updated while it drifts, closed once it is in sync (a layer
// that could not be checked leaves its issue alone); what was done (or, with
// --dry-run, the requests it would send) follows the report.
// +cache="never"
func (g *Github) Drift(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	base string,
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
	// Arguments passed through to the engine, as after -- natively (-refresh=false).
	// +optional
	extraArgs []string,
	// Layers run at once (default: cores + 1).
	// +optional
	concurrency int,
	// The commit checked (default: the event's, else the source's HEAD).
	// +optional
	sha string,
) (string, error) {
	return g.Infra.drift(ctx, applyArgs{layer: layer, base: base, format: format, extraArgs: extraArgs, concurrency: concurrency, sha: sha}, g)
}

// ReviewGate decides from the event whether the AI review runs and prints
// "run=true" or "run=false" and the reason. It fails only on an unreadable event.
func (g *Github) ReviewGate(
	ctx context.Context,
	// The account Atlantis comments as.
	// +optional
	// +default="infra-flash[bot]"
	bot string,
) (string, error) {
	if g.Event == nil {
		return "", errors.New("review-gate reads the event: pass github --event $GITHUB_EVENT_PATH --event-name $GITHUB_EVENT_NAME")
	}
	data, err := g.Event.Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("reading --event: %w", err)
	}
	t, err := prloop.Resolve(prloop.Flags{Repo: g.Repo, EventData: []byte(data), EventName: g.EventName}, actions.Env{})
	if err != nil {
		return "", err
	}
	d, err := prloop.ReviewGate(t, bot)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("run=%t\nreason=%s\n", d.Run, actions.OneLine(d.Reason)), nil
}
