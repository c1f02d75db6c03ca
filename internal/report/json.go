package report

import (
	"encoding/json"
	"io"

	"github.com/infra-flash/infra/internal/stage"
)

type jsonStage struct {
	Status     stage.Status    `json:"status"`
	DurationMS int64           `json:"duration_ms"`
	Cached     bool            `json:"cached"` // reused, not computed in this run
	Findings   []stage.Finding `json:"findings"`
}

type jsonLayer struct {
	Name      string    `json:"name"`
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Path      string    `json:"path"`
	Env       string    `json:"environment,omitempty"`
	DependsOn []string  `json:"depends_on"`
	Format    jsonStage `json:"format"`
	Lint      jsonStage `json:"lint"`
	Validate  jsonStage `json:"validate"`
}

type jsonReport struct {
	Status     stage.Status `json:"status"`
	ExitCode   int          `json:"exit_code"`
	Engine     string       `json:"engine"`
	DurationMS int64        `json:"duration_ms"`
	Layers     []jsonLayer  `json:"layers"`
}

// JSON writes the machine-readable report.
func JSON(w io.Writer, r *Report) error {
	out := jsonReport{Status: r.Status(), ExitCode: r.ExitCode(), Engine: r.Engine, DurationMS: r.Duration.Milliseconds(), Layers: []jsonLayer{}}
	for _, l := range r.Layers {
		st := func(k stage.Kind) jsonStage {
			res := l.Result(k)
			findings := res.Findings
			if findings == nil {
				findings = []stage.Finding{}
			}
			return jsonStage{Status: res.Status, DurationMS: res.Duration.Milliseconds(), Cached: res.Cached, Findings: findings}
		}
		deps := l.Layer.DependsOn
		if deps == nil {
			deps = []string{}
		}
		out.Layers = append(out.Layers, jsonLayer{
			Name: l.Layer.Dir, ID: l.Layer.ID(), Title: l.Layer.Title, Path: l.Layer.Path, Env: l.Layer.Env, DependsOn: deps,
			Format: st(stage.Format), Lint: st(stage.Lint), Validate: st(stage.Validate),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
