package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	usecase "github.com/infra-flash/infra/internal/app"
	catalogpkg "github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
)

// Dig probes every service of the catalog under the base domain over HTTPS, from
// the module's container with the same probes as the native CLI, and fails when a
// service is not healthy, printing the report. Never replayed from the cache: each
// call asks the services again. (`github ... dig` answers on a pull request.)
// +cache="never"
func (m *Infra) Dig(
	ctx context.Context,
	// Base domain the services live under, such as example.com (default: the
	// environment's domain, with the module's --env).
	// +optional
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
	// Services probed at once (1 to 1024).
	// +optional
	// +default=64
	concurrency int,
	// The services catalog, relative to the source.
	// +optional
	// +default="services.hcl"
	catalog string,
) (string, error) {
	probe, err := m.digProbe(ctx, digArgs{domain, layer, timeout, connectTo, cacert, format, concurrency, catalog})
	if err != nil {
		return "", err
	}
	return digFinish(ctx, &strings.Builder{}, probe(ctx), format, showDomain, false)
}

// Dig probes the services as `dig` does and answers on the pull request: a
// comment saying "Testing connectivity…" at once, edited with the results (the
// base domain hidden). An issue_comment event that is not a trusted /dig is skipped.
// +cache="never"
func (g *Github) Dig(
	ctx context.Context,
	// Base domain the services live under, such as example.com (default: the
	// environment's domain, with the module's --env).
	// +optional
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
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
	// Services probed at once (1 to 1024).
	// +optional
	// +default=64
	concurrency int,
	// The services catalog, relative to the source.
	// +optional
	// +default="services.hcl"
	catalog string,
	// The pull request to answer on (default: the event's).
	// +optional
	pr int,
	// Commit the answer is about (default: the PR head from the event).
	// +optional
	sha string,
) (string, error) {
	probe, err := g.Infra.digProbe(ctx, digArgs{domain, layer, timeout, connectTo, cacert, format, concurrency, catalog})
	if err != nil {
		return "", err
	}
	var b strings.Builder // what a dry run would send, the client's log, then the report
	t, client, err := g.connect(ctx, &b, pr, sha)
	if err != nil {
		return "", err
	}
	if skip := dig.Skip(t.Event); skip != "" {
		return "skipped: " + skip + "\n", nil
	}
	if t.PR == 0 {
		return "", errors.New("the /dig flow answers on a pull request: pass --pr N (or an issue_comment --event)")
	}
	rep, err := dig.OnPR(ctx, forge.Live(client, t.PR, dig.Marker, forge.Stamp{SHA: t.SHA}), false, t.RunURL, probe)
	if err != nil {
		return "", fmt.Errorf("%s%w", b.String(), err)
	}
	return digFinish(ctx, &b, rep, format, false, true)
}

// digArgs are the arguments both dig functions share.
type digArgs struct {
	domain      string
	layer       []string
	timeout     string
	connectTo   []string
	cacert      *dagger.File
	format      string
	concurrency int
	catalog     string
}

// digProbe checks the arguments and the catalog, and returns the probe to run.
func (m *Infra) digProbe(ctx context.Context, a digArgs) (func(context.Context) *dig.Report, error) {
	in := dig.Input{Domain: a.domain, Timeout: a.timeout, Concurrency: a.concurrency, ConnectTo: a.connectTo, Format: a.format}
	if a.cacert != nil {
		pem, err := a.cacert.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading --cacert: %w", err)
		}
		in.CACert, in.CACertName = []byte(pem), "(file)"
	}
	e, err := m.exportHCL(ctx)
	if err != nil {
		return nil, err
	}
	defer e.close()
	run, err := usecase.PlanDig(m.repo(ctx, e.fsys), usecase.DigOptions{Settings: m.settings(), Input: in,
		Layers: a.layer, Env: m.Env, Catalog: a.catalog})
	if err != nil {
		return nil, err
	}
	return run.Probe, nil
}

// digFinish renders the report after what b holds, and fails unless every
// service is healthy.
func digFinish(_ context.Context, b *strings.Builder, rep *dig.Report, format string, showDomain, onPR bool) (string, error) {
	if err := dig.Render(b, rep, format, dig.MaskDomain(format, showDomain, onPR)); err != nil {
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
	cat, err := catalogpkg.Open(src.fsys, name, src.model.Set)
	if err != nil {
		src.close()
		return nil, nil, nil, nil, err
	}
	return src.model.Set, src.fsys, cat, src.close, nil
}
