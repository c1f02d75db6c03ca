package app

import (
	"context"
	"io/fs"
	"strings"
	"time"

	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/state"
)

// ApplyOptions are the options of plan, apply, drift and unlock.
type ApplyOptions struct {
	Settings
	Selection
	Op          apply.Op
	Format      string // report format, checked before anything runs
	LockTimeout time.Duration
	Concurrency int      // layers at once; 0 for the default
	ExtraArgs   []string // engine arguments (after --)
	// Commit is the commit being planned or applied ("" when unknown).
	Commit string
	// MaskValues are secrets to mask in every report (--mask-env's values).
	MaskValues []string
	// BackendConfig is a -backend-config file's content, credentials included;
	// nil for none.
	BackendConfig []byte
	// VarFiles are -var-file paths as the executor's commands see them.
	VarFiles []string
	LockID   string                                  // unlock: the exact ID of the lock to release
	Plans    fs.FS                                   // apply: the plans saved by plan, applied instead of the code
	SavePlan func(meta plan.Meta, data []byte) error // plan: keeps every plan made
	// OnEvent receives progress, one call at a time, with its line for people,
	// masked.
	OnEvent func(e apply.Event, line string)
	Getenv  func(string) string // backend settings the files leave out; nil reads none
}

// Validate checks the options alone, before any file is read or tool looked up.
func (o ApplyOptions) Validate() error {
	if report.CheckFormat(o.Format) != nil {
		return BadInput("unknown --format %q: use text, markdown or json", o.Format)
	}
	if o.Concurrency < 0 {
		return BadInput("--concurrency must be positive")
	}
	if o.Commit != "" && (strings.HasPrefix(o.Commit, "-") || strings.ContainsAny(o.Commit, " \t\n/")) {
		return BadInput("--sha %q is not a commit", o.Commit)
	}
	if o.Op == apply.OpUnlock && o.LockID == "" {
		return BadInput("unlock needs --layer and --lock-id")
	}
	engine := apply.Options{ExtraArgs: o.ExtraArgs, Plans: o.Plans, LockTimeout: o.LockTimeout, Concurrency: o.Concurrency}
	if err := engine.Validate(); err != nil {
		return BadInput("%v", err)
	}
	return o.Settings.Validate()
}

// Applier is what runs the engine for plan, apply, drift and unlock: host binaries
// in a workspace, or containers.
type Applier interface {
	Open(ctx context.Context, run ApplyRun) (*ApplySession, error)
}

// ApplyRun is what an Applier is asked to prepare.
type ApplyRun struct {
	Model    *Model
	Selected []*layers.Layer
	// Backend is the parsed backend config (nil when none): the executor makes its
	// credential-free content readable to the commands and its credentials their
	// environment.
	Backend state.ConfigFile
}

// ApplySession is an opened Applier.
type ApplySession struct {
	Runner stage.Runner
	Files  apply.Files // nil: apply.LocalFiles at the runner's root
	// Source is the repository as this process sees it (layer HCL, source hashes).
	Source            fs.FS
	BackendConfigPath string // where the commands read the backend config; "" for none
	Close             func()
}

// ApplyResult is a run's report and the masker every output of it must go through.
type ApplyResult struct {
	Report *apply.Report
	Masker *plan.Masker
}

// Apply runs plan, apply, drift or unlock on the selected layers.
func Apply(ctx context.Context, repo Repo, o ApplyOptions, ex Applier, out Sink) (*ApplyResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m, err := Load(repo, o.Settings)
	if err != nil {
		return nil, err
	}
	// Real infrastructure: a layer that differs by environment needs --env.
	o.Selection.NeedsEnv = true
	selected, env, err := m.SelectEnv(ctx, repo, o.Selection)
	if err != nil {
		return nil, err
	}
	if env != o.Env {
		out.progress("infra: environment %s: the selected layers that differ by environment are its own", env)
		o.Env = env
	}
	if o.Op == apply.OpUnlock && len(selected) != 1 {
		return nil, BadInput("unlock works on one layer; --layer %s selects %d", strings.Join(o.Layers, ","), len(selected))
	}
	masker, err := plan.NewMasker(o.MaskValues, m.Config.MaskPatterns)
	if err != nil {
		return nil, BadInput("%v", err)
	}
	var backend state.ConfigFile
	if o.BackendConfig != nil {
		if backend, err = state.ParseConfigFile(o.BackendConfig); err != nil {
			return nil, BadInput("--backend-config: %v", err)
		}
		masker.Add(backend.Secrets()...)
	}
	res := &ApplyResult{Masker: masker, Report: &apply.Report{Op: o.Op, Engine: m.Engine, Commit: o.Commit}}
	if len(selected) == 0 {
		out.progress("infra: no layer is affected by the change; nothing to %s", o.Op)
		return res, nil
	}
	sess, err := ex.Open(ctx, ApplyRun{Model: m, Selected: selected, Backend: backend})
	if err != nil {
		return nil, err
	}
	if sess.Close != nil {
		defer sess.Close()
	}
	opts := apply.Options{Engine: m.Engine, Runner: sess.Runner, Files: sess.Files, Source: sess.Source,
		Backend: backend, BackendConfigPath: sess.BackendConfigPath, VarFiles: o.VarFiles, Env: o.Env,
		LayerFiles:  func(l *layers.Layer) ([]string, string) { return m.Set.EnvFiles(l, o.Env) },
		LockTimeout: o.LockTimeout, ExtraArgs: o.ExtraArgs, Concurrency: o.Concurrency, Commit: o.Commit,
		Bootstrap: m.Config.Bootstrap, Masker: masker, Getenv: o.Getenv, SavePlan: o.SavePlan, Plans: o.Plans}
	if o.OnEvent != nil {
		opts.OnEvent = func(e apply.Event) { o.OnEvent(e, masker.Mask(e.String())) }
	}
	out.progress("%s: %d layer(s) with %s: %s", o.Op, len(selected), m.Engine, Dirs(selected))
	var rep *apply.Report
	switch o.Op {
	case apply.OpPlan:
		rep, err = apply.Plan(ctx, selected, opts)
	case apply.OpApply:
		rep, err = apply.Apply(ctx, selected, opts)
	case apply.OpDrift:
		rep, err = apply.Drift(ctx, selected, opts)
	case apply.OpUnlock:
		rep, err = apply.Unlock(ctx, selected[0], o.LockID, opts)
	default:
		return nil, BadInput("unknown operation %q", o.Op)
	}
	if err != nil {
		return nil, BadInput("%s", masker.Mask(err.Error()))
	}
	res.Report = rep
	return res, nil
}
