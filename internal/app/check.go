package app

import (
	"context"
	"io/fs"
	"path"
	"strings"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// CheckOptions are validate's (and fmt's and lint's) options.
type CheckOptions struct {
	Settings
	Selection
	Kinds       []stage.Kind // the stages to run; default all
	Concurrency int          // stages at once; 0 for the default
	Format      string       // report format, checked before anything runs; "" skips the check
}

// Validate checks the options alone.
func (o CheckOptions) Validate() error {
	if o.Format != "" && report.CheckFormat(o.Format) != nil {
		return BadInput("unknown --format %q: use text, markdown or json", o.Format)
	}
	if o.Concurrency < 0 {
		return BadInput("--concurrency must be positive")
	}
	return o.Settings.Validate()
}

// Checker is what runs the stages: host binaries or containers.
type Checker interface {
	// Open prepares a run of kinds on the selected layers with the model's engine.
	Open(ctx context.Context, run CheckRun) (*CheckSession, error)
}

// CheckRun is what a Checker is asked to prepare.
type CheckRun struct {
	Model    *Model
	Selected []*layers.Layer
	Kinds    []stage.Kind
}

// CheckSession is an opened Checker.
type CheckSession struct {
	Runner stage.Runner
	Cache  pipeline.Cache // nil: every result is computed
	// Annotate, when set, completes the report once every stage ran (which
	// results came from the executor's own cache).
	Annotate func(*report.Report)
	// After, when set, says what the executor knows about the finished run.
	After func(*report.Report, Sink)
	Close func()
}

// CheckResult is a check run's outcome.
type CheckResult struct {
	Report *report.Report
	Model  *Model // the whole model, for the PR comment's graph
}

// Check runs the selected stages on the selected layers. Syntax errors are
// findings of the layers they break; every other layer is checked as usual.
func Check(ctx context.Context, repo Repo, o CheckOptions, ex Checker, out Sink) (*CheckResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = stage.Kinds
	}
	m, err := Load(repo, o.Settings)
	if err != nil {
		return nil, err
	}
	selected, err := m.Select(ctx, repo, o.Selection)
	if err != nil {
		return nil, err
	}
	if err := m.Set.CheckHCL(repo.FS, selected); err != nil {
		return nil, BadInput("%v", err)
	}
	m.Warnings(out)
	res := &CheckResult{Report: &report.Report{Engine: m.Engine, Stages: kinds}, Model: m}
	if len(selected) == 0 {
		out.progress("infra: no layer is affected by the change; nothing to check")
		return res, nil
	}
	sess, err := ex.Open(ctx, CheckRun{Model: m, Selected: selected, Kinds: kinds})
	if err != nil {
		return nil, err
	}
	if sess.Close != nil {
		defer sess.Close()
	}
	popts := pipeline.Options{Engine: m.Engine, Stages: kinds, Concurrency: o.Concurrency, Cache: sess.Cache}
	out.progress("checking %d layer(s) with %s: %s", len(selected), m.Engine, Dirs(selected))
	if out.Progress != nil {
		popts.OnResult = func(l *layers.Layer, k stage.Kind, r stage.Result) { out.Progress(report.Progress(l, k, r)) }
	}
	res.Report = pipeline.Run(ctx, selected, sess.Runner, popts)
	if sess.Annotate != nil {
		sess.Annotate(res.Report)
	}
	warnLockHosts(repo.FS, res.Report, m.Engine, out)
	if sess.After != nil {
		sess.After(res.Report, out)
	}
	return res, nil
}

// registryOf is where each engine looks up a provider named without a host.
var registryOf = map[string]string{"terraform": "registry.terraform.io", "tofu": "registry.opentofu.org"}

// warnLockHosts explains a lock file failure when the lock file is the other
// engine's: it records its registry's providers, which this engine does not look
// up, so init fails ("provider dependency changes detected") with nothing saying why.
func warnLockHosts(fsys fs.FS, rep *report.Report, engine string, out Sink) {
	want := registryOf[engine]
	for _, lr := range rep.Layers {
		l := lr.Layer
		if !l.HasLockFile || !LockFileFailed(&report.Report{Layers: []report.LayerResult{lr}}) {
			continue
		}
		name := path.Join(l.Path, ".terraform.lock.hcl")
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			continue // validate reports what it cannot read
		}
		for other, host := range registryOf {
			if other != engine && strings.Contains(string(data), `"`+host+`/`) && !strings.Contains(string(data), `"`+want+`/`) {
				out.warn("%s records providers of %s, as %s writes it; %s looks them up at %s, so its init failed: commit a lock file %s init wrote, or use --engine %s",
					name, host, other, engine, want, engine, other)
			}
		}
	}
}

// LockFileFailed tells whether a layer's init failed on its lock file, which with
// a mirror may be the mirror's doing, not the repository's.
func LockFileFailed(rep *report.Report) bool {
	for _, l := range rep.Layers {
		for _, f := range l.Result(stage.Validate).Findings {
			if strings.HasPrefix(f.Message, "init: ") && strings.Contains(f.Message, "lock file") {
				return true
			}
		}
	}
	return false
}
