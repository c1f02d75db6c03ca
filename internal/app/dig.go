package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/layers"
)

// DigOptions are dig's options; Input.Domain may be empty when the environment
// (or Getenv's BASE_DOMAIN) names it.
type DigOptions struct {
	Settings
	Input   dig.Input
	Layers  []string
	Env     string
	Catalog string // the catalog file, relative to the repository
	// Getenv supplies BASE_DOMAIN when neither Input.Domain nor the environment
	// names a domain; nil reads none.
	Getenv func(string) string
}

// DigRun is a checked dig: the base domain and the services to probe there.
type DigRun struct {
	Domain   string
	Services []catalog.Service
	Options  dig.Options
}

// Probe asks every service once.
func (r *DigRun) Probe(ctx context.Context) *dig.Report {
	return dig.Probe(ctx, r.Domain, r.Services, r.Options)
}

// PlanDig checks dig's options against the repository: the domain (given, the
// environment's, or BASE_DOMAIN's), the catalog, and the services of the
// selected layers in the environment (the shared layers' and its own).
func PlanDig(repo Repo, o DigOptions) (*DigRun, error) {
	m, err := Load(repo, o.Settings)
	if err != nil {
		return nil, err
	}
	// The rest of the input is checked once the domain is known, which may be
	// the environment's; a bad --format is said before any file is read.
	if err := dig.CheckFormat(o.Input.Format); err != nil {
		return nil, BadInput("%v", err)
	}
	cat, err := catalog.Open(repo.FS, o.Catalog, m.Set)
	if err != nil {
		return nil, BadInput("%v", err)
	}
	services, err := cat.Select(m.Set, o.Layers)
	if err != nil {
		return nil, BadInput("%v", err)
	}
	// The environment may be inferred from the services' layers: its domain is then the default.
	if services, o.Env, err = servicesInEnv(m.Set, services, o.Env); err != nil {
		return nil, BadInput("%v", err)
	}
	if e := m.Config.Environment(o.Env); e != nil && o.Input.Domain == "" {
		o.Input.Domain = e.Domain
	}
	if o.Input.Domain == "" && o.Getenv != nil {
		o.Input.Domain = o.Getenv("BASE_DOMAIN")
	}
	domain, opts, err := o.Input.Validate()
	if err != nil {
		return nil, BadInput("%v", err)
	}
	return &DigRun{Domain: domain, Services: services, Options: opts}, nil
}

// servicesInEnv keeps the services of the shared layers and the environment's,
// which dig needs when a selected service's layer differs by environment: a
// service follows its layer's environment.
func servicesInEnv(set *layers.Set, services []catalog.Service, env string) (_ []catalog.Service, inferred string, _ error) {
	var ls []*layers.Layer
	for _, s := range services {
		if l := set.Get(s.LayerDir); l != nil && !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	kept, env, err := set.InEnv(ls, env, true)
	if err != nil {
		return nil, "", err
	}
	var out []catalog.Service
	for _, s := range services {
		if slices.Contains(kept, set.Get(s.LayerDir)) {
			out = append(out, s)
		}
	}
	if len(out) == 0 && len(services) > 0 {
		return nil, "", fmt.Errorf("no service selected is in environment %s or a shared layer", env)
	}
	return out, env, nil
}
