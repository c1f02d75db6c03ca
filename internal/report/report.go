// Package report holds the outcome of a pipeline run and renders it as terminal
// text, markdown (the PR comment's status matrix) or JSON.
package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/stage"
)

// Exit codes shared by every command.
const (
	ExitOK        = 0 // every check passed
	ExitFailed    = 1 // a check found problems in the code
	ExitBadInput  = 2 // unknown layer, no layers directory, unparsable HCL, bad flags
	ExitToolError = 3 // a tool could not run or gave output we cannot read
)

// Report is the result of running stages on a set of layers.
type Report struct {
	Engine   string        // "terraform" or "tofu"
	Stages   []stage.Kind  // the stages that were run; the others are reported as skipped
	Layers   []LayerResult // apply order
	Duration time.Duration
}

// LayerResult holds one layer's results, one per stage kind.
type LayerResult struct {
	Layer   *layers.Layer
	Results map[stage.Kind]stage.Result
}

// Result returns the result of a stage, or a skip when it was not run.
func (l LayerResult) Result(k stage.Kind) stage.Result {
	if r, ok := l.Results[k]; ok {
		return r
	}
	return stage.Result{Status: stage.Skip, Findings: []stage.Finding{}}
}

// hasEnvironments tells a report on a repository with environments: its matrix
// shows each layer's.
func (r *Report) hasEnvironments() bool {
	for _, l := range r.Layers {
		if l.Layer.Env != "" || len(l.Layer.PerEnv) > 0 {
			return true
		}
	}
	return false
}

// envOf is a layer's environment for a matrix: its own, the ones applying it
// with their files, or "shared".
func envOf(l *layers.Layer) string {
	switch {
	case l.Env != "":
		return l.Env
	case len(l.PerEnv) > 0:
		return strings.Join(l.PerEnv, ", ")
	}
	return "shared"
}

// Status folds all results: error beats fail beats pass.
func (r *Report) Status() stage.Status {
	status := stage.Pass
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			switch l.Result(k).Status {
			case stage.Error:
				return stage.Error
			case stage.Fail:
				status = stage.Fail
			}
		}
	}
	return status
}

// anyFailed tells whether some check ran and failed.
func (r *Report) anyFailed() bool {
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			if l.Result(k).Status == stage.Fail {
				return true
			}
		}
	}
	return false
}

// Cached counts the results reused from a cache, and all the results run.
func (r *Report) Cached() (cached, of int) {
	for _, l := range r.Layers {
		for _, k := range r.Stages {
			if res, ok := l.Results[k]; ok {
				of++
				if res.Cached {
					cached++
				}
			}
		}
	}
	return cached, of
}

// ExitCode maps the report to the process exit code. A tool error wins over a
// failed check because the results are then incomplete.
func (r *Report) ExitCode() int {
	switch r.Status() {
	case stage.Error:
		return ExitToolError
	case stage.Fail:
		return ExitFailed
	}
	return ExitOK
}

// Formats are the names Render accepts.
var Formats = []string{"text", "markdown", "json"}

// CheckFormat validates a format name before any work is done.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("unknown format %q: use text, markdown or json", format)
}

// Render writes the report in a named format.
func Render(w io.Writer, r *Report, format string) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	switch format {
	case "json":
		return JSON(w, r)
	case "markdown":
		return Markdown(w, r, 0)
	}
	return Text(w, r)
}
