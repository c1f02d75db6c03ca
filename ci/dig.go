package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	catalogpkg "github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
)

// Dig probes every service of the catalog under the base domain over HTTPS, from
// the module's container with the same probes as the native CLI, and fails when a
// service is not healthy, printing the report. Never replayed from the cache: each
// call asks the services again.
// +cache="never"
func (m *Infra) Dig(
	ctx context.Context,
	// Base domain the services live under, such as example.com.
	domain string,
	// all, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// Time each service has to answer.
	// +optional
	// +default="10s"
	timeout string,
	// HOST:PORT:ADDR:PORT as curl has it: connect there instead (empty HOST or PORT
	// matches any). Addresses are as the module's container sees them.
	// +optional
	connectTo []string,
	// PEM file of a CA to trust besides the system's.
	// +optional
	cacert *dagger.File,
	// Show the base domain in markdown instead of ${BASE_DOMAIN}.
	// +optional
	showDomain bool,
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
	// Services probed at once (0: the default, 64).
	// +optional
	concurrency int,
	// The services catalog, relative to the source.
	// +optional
	// +default="services.hcl"
	catalog string,
	// Answer on this pull request: "Testing connectivity…" at once, then the results
	// (an issue_comment --event that is not a trusted /dig is skipped).
	// +optional
	pr int,
	// OWNER/NAME (default: the event's).
	// +optional
	repo string,
	// Commit the answer is about (default: the PR head from the event).
	// +optional
	sha string,
	// GitHub API root, for GitHub Enterprise Server or a compatible API.
	// +optional
	apiUrl string,
	// Link to the run, shown in the comment.
	// +optional
	runUrl string,
	// Print the requests that would change GitHub instead of sending them.
	// +optional
	dryRun bool,
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
	in := dig.Input{Domain: domain, Timeout: timeout, Concurrency: concurrency, ConnectTo: connectTo, Format: format}
	if cacert != nil {
		pem, err := cacert.Contents(ctx)
		if err != nil {
			return "", fmt.Errorf("reading --cacert: %w", err)
		}
		in.CACert, in.CACertName = []byte(pem), "(file)"
	}
	base, opts, err := in.Validate()
	if err != nil {
		return "", err
	}
	set, _, cat, done, err := m.openCatalog(ctx, catalog, false)
	if err != nil {
		return "", err
	}
	done()
	services, err := cat.Select(set, layer)
	if err != nil {
		return "", err
	}
	probe := func(ctx context.Context) *dig.Report { return dig.Probe(ctx, base, services, opts) }
	var b strings.Builder // what a dry run would send, the client's log, then the report
	var rep *dig.Report
	if pr != 0 || event != nil {
		args := ghArgs{repo: repo, pr: pr, sha: sha, apiURL: apiUrl, runURL: runUrl, event: event, eventName: eventName, dryRun: dryRun,
			token: token, appID: appId, installationID: installationId, appKey: appKey}
		t, client, err := args.connect(ctx, &b)
		if err != nil {
			return "", err
		}
		if skip := dig.Skip(t.Event); skip != "" {
			return "skipped: " + skip + "\n", nil
		}
		if t.PR == 0 {
			return "", errors.New("the /dig flow answers on a pull request: pass --pr N (or an issue_comment --event)")
		}
		if rep, err = dig.OnPR(ctx, forge.Live(client, t.PR, dig.Marker, forge.Stamp{SHA: t.SHA}), showDomain, t.RunURL, probe); err != nil {
			return "", fmt.Errorf("%s%w", b.String(), err)
		}
	} else {
		rep = probe(ctx)
	}
	if err := dig.Render(&b, rep, format, dig.MaskDomain(format, showDomain)); err != nil {
		return "", err
	}
	if rep.ExitCode() != dig.ExitHealthy {
		return "", errors.New(b.String())
	}
	return b.String(), nil
}

// Catalog lists the services catalog; with check it compares the catalog with the
// README's services table and the hosts the layers build, and fails on a
// difference. (Regenerating the README table writes to the repository: run
// `infra catalog --write` natively.)
func (m *Infra) Catalog(
	ctx context.Context,
	// Compare with the README's table and the terraform hosts.
	// +optional
	check bool,
	// text, markdown (the README table) or json.
	// +optional
	// +default="text"
	format string,
	// The services catalog, relative to the source.
	// +optional
	// +default="services.hcl"
	catalog string,
) (string, error) {
	if err := dig.CheckFormat(format); err != nil {
		return "", err
	}
	set, fsys, cat, done, err := m.openCatalog(ctx, catalog, check)
	if err != nil {
		return "", err
	}
	defer done()
	res := &catalogpkg.CheckResult{Catalog: cat}
	if check {
		if res, err = catalogpkg.Check(fsys, set, cat); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	if err := catalogpkg.Render(&b, res, check, format); err != nil {
		return "", err
	}
	if len(res.Findings) > 0 {
		return "", errors.New(b.String())
	}
	return b.String(), nil
}

// openCatalog reads the layer model and the catalog named name; for a check it
// also loads the README and the values templates into the returned files. Call
// close when done with the files.
func (m *Infra) openCatalog(ctx context.Context, name string, check bool) (*layers.Set, fs.FS, *catalogpkg.Catalog, func(), error) {
	var extra []string
	if check {
		extra = []string{catalogpkg.ReadmeFile, "**/*.tftpl"}
	}
	src, err := m.load(ctx, extra...)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cat, err := catalogpkg.Open(src.fsys, name, src.set)
	if err != nil {
		src.close()
		return nil, nil, nil, nil, err
	}
	return src.set, src.fsys, cat, src.close, nil
}
