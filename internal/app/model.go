package app

import (
	"context"
	"strings"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
)

// Settings override infra.hcl for one run; empty fields keep the file's values.
type Settings struct {
	LayersDir string // the directory holding the N.name layers
	Engine    string // terraform or tofu
}

// Validate checks the settings alone, before any file is read.
func (s Settings) Validate() error {
	if s.Engine != "" && s.Engine != "terraform" && s.Engine != "tofu" {
		return BadInput("unknown --engine %q: use terraform or tofu", s.Engine)
	}
	if s.LayersDir != "" {
		if _, err := repoconfig.CleanRel("--layers-dir", s.LayersDir); err != nil {
			return BadInput("%v", err)
		}
	}
	return nil
}

// Model is a repository's configuration and layer model, read once per run.
type Model struct {
	Config repoconfig.Config
	Set    *layers.Set
	Engine string // the engine this run uses
}

// Load reads infra.hcl and discovers the layers.
func Load(repo Repo, s Settings) (*Model, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cfg, err := repoconfig.Load(repo.FS)
	if err != nil {
		return nil, BadInput("%v", err)
	}
	if s.LayersDir != "" {
		cfg.LayersDir, _ = repoconfig.CleanRel("--layers-dir", s.LayersDir)
		cfg.LayersDirSet, cfg.Layers = true, nil
	}
	set, err := layers.Discover(repo.FS, cfg)
	if err != nil {
		if repo.Hint != nil {
			if hint := repo.Hint(); hint != "" {
				return nil, BadInput("%v\n%s", err, hint)
			}
		}
		return nil, BadInput("%v", err)
	}
	return &Model{Config: cfg, Set: set, Engine: cfg.EngineFor(s.Engine)}, nil
}

// Select resolves a selection; "changed" asks the repository's git history.
func (m *Model) Select(ctx context.Context, repo Repo, sel Selection) ([]*layers.Layer, error) {
	selected, _, err := m.SelectEnv(ctx, repo, sel)
	return selected, err
}

// SelectEnv is Select and the environment the layers are for: --env's, or, on
// real infrastructure, the one environment whose own layers were selected.
func (m *Model) SelectEnv(ctx context.Context, repo Repo, sel Selection) ([]*layers.Layer, string, error) {
	selected, err := m.Set.Select(sel.Layers, func() ([]string, error) {
		if strings.HasPrefix(sel.Base, "-") {
			return nil, BadInput("--base %q: a ref cannot start with '-'", sel.Base)
		}
		if repo.Changed == nil {
			if repo.NoHistory != nil {
				return nil, &Error{Code: report.ExitBadInput, Msg: repo.NoHistory.Error()}
			}
			return nil, BadInput("--layer changed needs the repository's git history")
		}
		return repo.Changed(ctx, sel.Base)
	})
	if err != nil {
		return nil, "", &Error{Code: selectionCode(err), Msg: err.Error()}
	}
	selected, env, err := m.Set.InEnv(selected, sel.Env, sel.NeedsEnv)
	if err != nil {
		return nil, "", BadInput("%v", err)
	}
	return selected, env, nil
}

// Warnings says the layer model's warnings through the sink.
func (m *Model) Warnings(out Sink) {
	for _, w := range m.Set.Warnings {
		out.warn("%s", w)
	}
}

// Dirs lists the layers' directories for a progress line.
func Dirs(ls []*layers.Layer) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Dir
	}
	return strings.Join(names, ", ")
}
