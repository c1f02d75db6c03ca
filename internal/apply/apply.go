// Package apply plans, applies and checks for drift over the layer graph: layers
// in dependency order (independent ones concurrently, bounded), bootstrap targets
// first, every layer depending on a failed one left alone and reported as skipped,
// a re-plan after each apply to prove it converged, saved plans applied only when
// they are the ones reviewed. Commands go through a stage.Runner, so the native
// executor and the Dagger module run the same steps.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/state"
)

// Options configure a run.
type Options struct {
	Engine string
	Runner stage.Runner
	// Files reaches the files the runner's commands write; default the
	// Runner's own, when it has them.
	Files Files
	// Source is the repository as this process sees it: layer HCL, source hashes.
	Source fs.FS
	// Backend is the parsed backend config file, used to read the lock object; nil
	// when the run has none.
	Backend state.ConfigFile
	// BackendConfigPath and VarFiles are the files as the runner's commands see them.
	BackendConfigPath string
	VarFiles          []string
	// Env is the environment the run is for ("" for none); saved plans record it.
	Env string
	// LayerFiles gives a layer's own -var-file and -backend-config files in the
	// run's environment, relative to the layer's directory; nil for none.
	LayerFiles  func(*layers.Layer) (varFiles []string, backendConfig string)
	LockTimeout time.Duration
	// ExtraArgs pass through to plan and apply (-destroy, -target=..., -refresh-only).
	ExtraArgs   []string
	Concurrency int // layers at once; default pipeline.DefaultConcurrency()
	// Commit is the commit being planned or applied; plans record it.
	Commit string
	// Bootstrap holds configured bootstrap targets per layer directory.
	Bootstrap map[string][]string
	Masker    *plan.Masker
	// Getenv supplies backend settings the files leave out (AWS_* variables); nil
	// reads none.
	Getenv func(string) string
	// OnEvent receives progress, one call at a time.
	OnEvent func(Event)
	// SavePlan receives every plan a plan run makes.
	SavePlan func(meta plan.Meta, data []byte) error
	// Plans holds saved plans (made by plan, at its root) for apply to apply;
	// nil applies the configuration directly.
	Plans fs.FS
}

// Event is a progress report: a layer starting a step, or finishing.
type Event struct {
	Op      Op
	Layer   *layers.Layer
	Step    string       // "start", "init", "bootstrap", "apply", "re-plan", "plan", "refresh", "unlock"
	Result  *LayerResult // set when the layer is done (or skipped)
	Elapsed time.Duration
}

// String is the progress line for people.
func (e Event) String() string {
	name := string(e.Op) + " " + e.Layer.Dir
	if e.Result == nil {
		if e.Step == "start" {
			return name + ": started"
		}
		return fmt.Sprintf("%s: %s (%s in)", name, e.Step, e.Elapsed.Round(100*time.Millisecond))
	}
	r := e.Result
	line := fmt.Sprintf("%s: %s", name, r.Status)
	if d := headline(r); d != "" {
		line += " (" + d + ")"
	}
	if r.Status != Skipped {
		line += fmt.Sprintf(" in %s", r.Duration.Round(100*time.Millisecond))
	}
	return line
}

// InputError is a request that cannot be run; nothing was started.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

var now = time.Now

// Validate checks what the user asked for, before anything is looked up or
// started: a caller runs it first, so bad input is exit 2 whatever else is wrong.
func (o *Options) Validate() error {
	if err := CheckExtraArgs(o.ExtraArgs); err != nil {
		return &InputError{err.Error()}
	}
	if o.Plans != nil && len(o.ExtraArgs) > 0 {
		return &InputError{"extra arguments cannot be given with saved plans: a saved plan carries the arguments it was made with"}
	}
	if o.LockTimeout < 0 {
		return &InputError{"the lock timeout cannot be negative"}
	}
	if o.Concurrency < 0 {
		return &InputError{"the concurrency cannot be negative"}
	}
	return nil
}

func (o *Options) check(op Op) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Runner == nil || o.Source == nil {
		return &InputError{"internal: a runner and the source are required"}
	}
	if o.Files == nil {
		if o.Files = filesOf(o.Runner); o.Files == nil {
			return &InputError{"internal: the runner does not reach its files; Options.Files is required"}
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = pipeline.DefaultConcurrency()
	}
	if o.Masker == nil {
		o.Masker, _ = plan.NewMasker(o.Backend.Secrets(), nil)
	} else {
		o.Masker.Add(o.Backend.Secrets()...)
	}
	return nil
}

// Plan plans every selected layer in dependency order and hands each plan to
// Options.SavePlan. A layer whose plan fails while a layer it reads has changes
// to apply waits for that one (its plan cannot be made before), and says so.
func Plan(ctx context.Context, selected []*layers.Layer, opts Options) (*Report, error) {
	return run(ctx, OpPlan, selected, opts, true, (*layerRun).plan)
}

// Apply applies the selected layers in dependency order.
func Apply(ctx context.Context, selected []*layers.Layer, opts Options) (*Report, error) {
	if opts.Plans != nil {
		// Every plan is checked before anything is applied: one wrong plan refuses
		// the run instead of half-applying it.
		if err := opts.check(OpApply); err != nil {
			return nil, err
		}
		if rep := verifyPlans(selected, opts); rep != nil {
			return rep, nil
		}
	}
	return run(ctx, OpApply, selected, opts, true, (*layerRun).apply)
}

// Drift checks every selected layer: does the code differ from the live state,
// and did reality move since the last apply.
func Drift(ctx context.Context, selected []*layers.Layer, opts Options) (*Report, error) {
	return run(ctx, OpDrift, selected, opts, false, (*layerRun).drift)
}

func run(ctx context.Context, op Op, selected []*layers.Layer, opts Options, ordered bool, do func(*layerRun, context.Context)) (*Report, error) {
	if err := opts.check(op); err != nil {
		return nil, err
	}
	start := now()
	rep := &Report{Op: op, Engine: opts.Engine, Commit: opts.Commit}
	s := &scheduler{opts: &opts, op: op}
	rep.Layers = s.run(ctx, selected, ordered, func(ctx context.Context, l *layers.Layer) LayerResult {
		x := newLayerRun(op, l, &opts)
		x.upstream = s.statusOf
		s.emit(Event{Op: op, Layer: l, Step: "start"})
		do(x, ctx)
		x.res.Duration = now().Sub(x.start)
		return x.res
	})
	rep.Duration = now().Sub(start)
	return rep, nil
}

// layerRun is one layer's steps.
type layerRun struct {
	op    Op
	l     *layers.Layer
	opts  *Options
	cmds  commands
	res   LayerResult
	start time.Time
	cfg   layerConfig
	// backend is the run's backend config with the environment's file over it.
	backend state.ConfigFile
	// envBackend is the environment's backend config file, relative to the layer.
	envBackend string
	// upstream tells how a layer this one depends on ended, and what it waits for.
	upstream func(dir string) (Status, string)
}

func newLayerRun(op Op, l *layers.Layer, opts *Options) *layerRun {
	x := &layerRun{op: op, l: l, opts: opts, start: now(), res: LayerResult{Layer: l}, backend: opts.Backend,
		cmds: commands{layer: l, lockTimeout: opts.LockTimeout}}
	if opts.BackendConfigPath != "" {
		x.cmds.backendConfigs = []string{opts.BackendConfigPath}
	}
	var envVars []string
	if opts.LayerFiles != nil {
		envVars, x.envBackend = opts.LayerFiles(l)
	}
	// The environment's files first: the run's own --var-file overrides them, as
	// a later -var-file does. Its backend file comes last, since it names this
	// environment's state over the run's shared settings.
	x.cmds.varFiles = append(envVars, opts.VarFiles...)
	if x.envBackend != "" {
		x.cmds.backendConfigs = append(x.cmds.backendConfigs, x.envBackend)
	}
	return x
}

// readEnvBackend merges the environment's backend config file over the run's.
func (x *layerRun) readEnvBackend() error {
	merged, err := EnvBackend(x.opts.Source, x.l.Path, x.envBackend, x.opts.Backend)
	if err != nil {
		return fmt.Errorf("environment %s: %w", x.opts.Env, err)
	}
	x.backend = merged
	x.opts.Masker.Add(merged.Secrets()...)
	return nil
}

func (x *layerRun) emit(step string) {
	if x.opts.OnEvent != nil {
		x.opts.OnEvent(Event{Op: x.op, Layer: x.l, Step: step, Elapsed: now().Sub(x.start)})
	}
}

func (x *layerRun) fail(f failure) {
	x.res.Status, x.res.Reason, x.res.Detail, x.res.Lock = f.status, f.reason, f.detail, f.lock
	if f.status == Locked && f.lock != nil && f.lock.Who == "" {
		// Some engines print no lock info for lock objects: ask the bucket.
		if l := x.lookupLock(context.Background()); l != nil {
			x.res.Lock = l
			x.res.Reason = "the state is " + l.Describe(now())
		}
	}
}

// exec runs one command; ok lists the exit codes that mean success.
func (x *layerRun) exec(ctx context.Context, step string, cmd stage.Command, ok ...int) (stage.Output, bool) {
	out, err := x.opts.Runner.Run(ctx, cmd)
	if err != nil {
		reason := fmt.Sprintf("%s: %s could not run: %s", step, x.opts.Engine, x.opts.Masker.Mask(err.Error()))
		if ctx.Err() != nil {
			reason = step + ": the run was stopped"
		}
		x.res.Status, x.res.Reason = Error, reason
		x.res.Detail = tail(x.opts.Masker.Mask(out.Stderr), 30)
		return out, false
	}
	if len(ok) == 0 {
		ok = []int{0}
	}
	for _, c := range ok {
		if out.ExitCode == c {
			return out, true
		}
	}
	x.fail(classify(step, out.Stdout, out.Stderr, x.opts.Masker))
	return out, false
}

// prepare reads the layer's HCL and runs init with the real backend.
func (x *layerRun) prepare(ctx context.Context) bool {
	cfg, err := readLayerConfig(x.opts.Source, x.l.Path)
	if err != nil {
		x.res.Status, x.res.Reason = Refused, err.Error()
		return false
	}
	x.cfg = cfg
	if err := x.readEnvBackend(); err != nil {
		x.res.Status, x.res.Reason = Refused, x.opts.Masker.Mask(err.Error())
		return false
	}
	x.emit("init")
	key := sha256.Sum256([]byte(string(cfg.backend.WithoutCredentials()) + "\x00" + string(x.backend.WithoutCredentials())))
	_, ok := x.exec(ctx, "init", x.cmds.init(cfg.backendType+":"+hex.EncodeToString(key[:])))
	return ok
}

// showPlan renders a plan file the session holds, learning the values of sensitive
// variables first so that they are masked everywhere from now on.
func (x *layerRun) showPlan(ctx context.Context, step, file string) (*plan.Summary, bool) {
	p, ok := x.readPlan(ctx, step, file)
	if !ok {
		return nil, false
	}
	s := plan.Summarize(p, x.opts.Masker)
	return &s, true
}

// readPlan decodes a plan file, its sensitive values learnt for the masker.
func (x *layerRun) readPlan(ctx context.Context, step, file string) (*tfjson.Plan, bool) {
	out, ok := x.exec(ctx, step, x.cmds.show(file))
	if !ok {
		return nil, false
	}
	p, err := plan.Parse([]byte(out.Stdout))
	if err != nil {
		x.res.Status, x.res.Reason = Error, step+": "+err.Error()
		return nil, false
	}
	x.opts.Masker.Add(plan.SensitiveValues(p)...)
	return p, true
}

// usePlanVariables makes the next commands take the variables a saved plan was
// made with, not the run's: the re-plan then checks the plan's own outcome.
func (x *layerRun) usePlanVariables(ctx context.Context, p *tfjson.Plan) bool {
	vals := map[string]any{}
	for name, v := range p.Variables {
		if v != nil {
			vals[name] = v.Value
		}
	}
	data, err := json.Marshal(vals)
	if err == nil {
		file := x.cmds.planFile("saved") + ".tfvars.json"
		if err = x.opts.Files.Put(ctx, x.cmds.session(), x.cmds.repoPath(file), data); err == nil {
			x.cmds.varFiles = []string{file}
			return true
		}
	}
	x.res.Status, x.res.Reason = Error, "placing the saved plan's variables: "+err.Error()
	return false
}

// planTo makes a plan file and, when it has changes (the -detailed-exitcode
// answer), reads it back; a plan without changes has nothing to show.
func (x *layerRun) planTo(ctx context.Context, step, name string, extra []string) (sum *plan.Summary, changed, ok bool) {
	file := x.cmds.planFile(name)
	out, ok := x.exec(ctx, step, x.cmds.plan(file, extra), 0, 2)
	if !ok {
		return nil, false, false
	}
	if out.ExitCode == 0 {
		empty := plan.Empty()
		return &empty, false, true
	}
	sum, ok = x.showPlan(ctx, step, file)
	return sum, true, ok
}

func (x *layerRun) plan(ctx context.Context) {
	if x.unsavedState() || !x.prepare(ctx) {
		return
	}
	x.emit("plan")
	sum, changed, ok := x.planTo(ctx, "plan", "plan", x.opts.ExtraArgs)
	if !ok {
		x.waitForUpstream()
		return
	}
	data, err := x.opts.Files.Get(ctx, x.cmds.session(), x.cmds.repoPath(x.cmds.planFile("plan")))
	if err != nil {
		x.res.Status, x.res.Reason = Error, "reading the plan file: "+err.Error()
		return
	}
	source, err := plan.SourceHash(x.opts.Source, append([]string{x.l.Path}, x.l.Modules...))
	if err != nil {
		x.res.Status, x.res.Reason = Error, err.Error()
		return
	}
	meta := plan.Meta{Layer: x.l.Dir, Env: x.opts.Env, Commit: x.opts.Commit, SourceHash: source, PlanHash: plan.Hash(data),
		Engine: x.opts.Engine, Args: append([]string{}, x.opts.ExtraArgs...), Changes: changed, Created: now().UTC()}
	if x.opts.SavePlan != nil {
		if err := x.opts.SavePlan(meta, data); err != nil {
			x.res.Status, x.res.Reason = Error, "saving the plan: "+err.Error()
			return
		}
	}
	x.res.Plan, x.res.PlanHash = sum, meta.PlanHash
	x.res.Status = NoChanges
	if changed {
		x.res.Status = Planned
	}
}

// waitForUpstream turns a failed plan into a wait when a layer it reads has
// changes not yet applied (or waits itself): its outputs or its state do not
// exist yet, so this plan can only be made after that apply. The engine's
// output stays in the detail, in case the failure is of its own.
func (x *layerRun) waitForUpstream() {
	if x.res.Status != Failed || x.upstream == nil {
		return
	}
	for _, d := range x.l.DependsOn {
		switch st, root := x.upstream(d); st {
		case Planned:
			x.res.Status, x.res.waitsFor = Waiting, d
		case Waiting:
			x.res.Status, x.res.waitsFor = Waiting, root
		default:
			continue
		}
		x.res.Reason = "waits for " + x.res.waitsFor + " to be applied: its plan reads that layer's state"
		return
	}
}

// verifyPlans checks every selected layer's saved plan; a report of refusals when
// any is wrong, nil when all fit.
func verifyPlans(selected []*layers.Layer, opts Options) *Report {
	rep := &Report{Op: OpApply, Engine: opts.Engine, Commit: opts.Commit}
	refused := false
	for _, l := range selected {
		r := LayerResult{Layer: l, Status: Skipped, Reason: "not applied: another layer's saved plan was refused"}
		meta, data, err := plan.Load(opts.Plans, ".", l.Dir)
		if err == nil {
			var source string
			if source, err = plan.SourceHash(opts.Source, append([]string{l.Path}, l.Modules...)); err == nil {
				err = plan.Verify(meta, data, opts.Commit, source)
			}
			if err == nil && meta.Env != opts.Env {
				err = &plan.RefusedError{Layer: meta.Layer, Reason: fmt.Sprintf("it was made for %s, not for %s", envName(meta.Env), envName(opts.Env))}
			}
		}
		if err != nil {
			refused = true
			r.Status, r.Reason = Refused, opts.Masker.Mask(err.Error())
			if errors.Is(err, plan.ErrNoPlan) {
				r.Reason = "no saved plan for this layer among the plans given"
			}
		}
		r.PlanHash = meta.PlanHash
		rep.Layers = append(rep.Layers, r)
	}
	if !refused {
		return nil
	}
	return rep
}

func envName(env string) string {
	if env == "" {
		return "no environment"
	}
	return "environment " + env
}

// erroredState is the file the engine writes, in its working directory, when it
// cannot save the state it changed to the backend.
const erroredState = "errored.tfstate"

// unsavedState refuses to touch a layer whose last apply could not save its
// state: applying again would create what the file records a second time, and a
// plan made from the backend's state, which lacks it, would plan just that.
func (x *layerRun) unsavedState() bool {
	p, ok := x.erroredState()
	if !ok {
		return false
	}
	x.res.Status, x.res.SavedState = Refused, p
	x.res.Reason = fmt.Sprintf("%s holds state that an earlier apply could not save to the backend: push it (%s state push %s, in the layer's directory), then remove it and %s again",
		p, x.opts.Engine, erroredState, x.op)
	return true
}

// erroredState is the layer's errored.tfstate, when there is one.
func (x *layerRun) erroredState() (string, bool) {
	p := x.l.Path + "/" + erroredState
	_, err := fs.Stat(x.opts.Source, p)
	return p, err == nil
}

// keepState names the errored.tfstate a failed apply left, so that the report
// says where what it applied is; the file stays where the engine wrote it.
func (x *layerRun) keepState(ctx context.Context, out stage.Output) {
	if !strings.Contains(out.Stdout+out.Stderr, erroredState) {
		return
	}
	p := x.cmds.repoPath(erroredState)
	if _, err := x.opts.Files.Get(ctx, x.cmds.session(), p); err != nil {
		return
	}
	x.res.SavedState = p
	x.res.Status = Error
	x.res.Reason = fmt.Sprintf("%s; what it applied could not be saved to the backend and is in %s: push it (%s state push %s, in the layer's directory) once the backend is back",
		x.res.Reason, p, x.opts.Engine, erroredState)
}

func (x *layerRun) apply(ctx context.Context) {
	if x.unsavedState() || !x.prepare(ctx) {
		return
	}
	extra := x.opts.ExtraArgs
	if x.opts.Plans != nil {
		meta, data, err := plan.Load(x.opts.Plans, ".", x.l.Dir)
		if err != nil {
			x.res.Status, x.res.Reason = Refused, err.Error()
			return
		}
		extra = meta.Args
		file := x.cmds.planFile("saved")
		if err := x.opts.Files.Put(ctx, x.cmds.session(), x.cmds.repoPath(file), data); err != nil {
			x.res.Status, x.res.Reason = Error, "placing the saved plan: "+err.Error()
			return
		}
		x.res.PlanHash = meta.PlanHash
		p, ok := x.readPlan(ctx, "show", file)
		if !ok || !x.usePlanVariables(ctx, p) {
			return
		}
		sum := plan.Summarize(p, x.opts.Masker)
		x.res.Plan = &sum
		x.emit("apply")
		x.res.Phases = append(x.res.Phases, "saved plan "+plan.Short(meta.PlanHash))
		out, ok := x.exec(ctx, "apply", x.cmds.applyPlan(file))
		applied := appliedSummary(out.Stdout, x.opts.Masker)
		x.res.Applied = &applied
		if !ok {
			x.keepState(ctx, out)
			return
		}
	} else {
		applied := plan.Empty()
		if targets := bootstrapTargets(x.cfg, x.opts.Bootstrap[x.l.Dir]); len(targets) > 0 && !skipsBootstrap(extra) {
			x.emit("bootstrap")
			var args []string
			for _, t := range targets {
				args = append(args, "-target="+t)
			}
			x.res.Phases = append(x.res.Phases, "bootstrap "+strings.Join(args, " "))
			out, ok := x.exec(ctx, "bootstrap apply", x.cmds.applyDirect(append(args, extra...)))
			applied = appliedSummary(out.Stdout, x.opts.Masker)
			x.res.Applied = &applied
			if !ok {
				x.keepState(ctx, out)
				return
			}
		}
		x.emit("apply")
		x.res.Phases = append(x.res.Phases, "full")
		out, ok := x.exec(ctx, "apply", x.cmds.applyDirect(extra))
		applied = add(applied, appliedSummary(out.Stdout, x.opts.Masker))
		x.res.Applied = &applied
		if !ok {
			x.keepState(ctx, out)
			return
		}
	}
	x.emit("re-plan")
	residual, changed, ok := x.planTo(ctx, "re-plan", "replan", extra)
	if !ok {
		// The apply itself succeeded: say so, and that convergence is unproven.
		x.res.Status = NotConverged
		x.res.Reason = "applied, but the re-plan failed: " + x.res.Reason
		return
	}
	x.res.Status = Applied
	if changed {
		x.res.Status, x.res.Residual = NotConverged, residual
		x.res.Reason = "a re-plan after the apply still shows changes: " + residual.Counts()
	}
}

func (x *layerRun) drift(ctx context.Context) {
	if p, ok := x.erroredState(); ok {
		// What the backend's state lacks exists: reality differs from the state,
		// whatever the comparison finds, and whatever stops it (the lock the failed
		// apply left, say) is reported with the file.
		defer func() {
			x.res.SavedState = p
			note := fmt.Sprintf("%s holds resources an earlier apply could not save to the backend, which this comparison does not see: push it (%s state push %s, in the layer's directory)",
				p, x.opts.Engine, erroredState)
			if x.res.Status == InSync {
				x.res.Status = Drifted
			}
			x.res.Reason = strings.TrimPrefix(x.res.Reason+"; "+note, "; ")
		}()
	}
	if !x.prepare(ctx) {
		return
	}
	x.emit("plan")
	code, codeChanged, ok := x.planTo(ctx, "plan", "drift", x.opts.ExtraArgs)
	if !ok {
		return
	}
	x.emit("refresh")
	refresh, refreshChanged, ok := x.planTo(ctx, "refresh-only plan", "refresh", append([]string{"-refresh-only"}, x.opts.ExtraArgs...))
	if !ok {
		return
	}
	code.Drift = []plan.Resource{} // the refresh-only plan reports it, once
	x.res.Plan, x.res.Refresh = code, refresh
	x.res.Status = InSync
	var why []string
	if codeChanged {
		why = append(why, "the code differs from the live state: "+code.Counts())
	}
	if refreshChanged {
		n := len(refresh.Drift)
		why = append(why, fmt.Sprintf("%d resource(s) changed outside the engine", n))
	}
	if len(why) > 0 {
		x.res.Status, x.res.Reason = Drifted, strings.Join(why, "; ")
	}
}

// lookupLock asks the bucket who holds the layer's lock, when the backend keeps
// a lock object there; nil when it cannot tell.
func (x *layerRun) lookupLock(ctx context.Context) *state.Lock {
	st, err := x.store()
	if err != nil {
		return nil
	}
	l, err := st.Lock(ctx)
	if err != nil {
		return nil
	}
	return l
}

func (x *layerRun) store() (*state.Store, error) {
	return state.NewStore(state.Resolve(x.cfg.backendType, x.cfg.backend, x.backend, x.opts.Getenv))
}

// headline is the short parenthesis of a progress line.
func headline(r *LayerResult) string {
	switch {
	case r.Reason != "" && r.Status != Applied:
		return r.Reason
	case r.Applied != nil:
		return fmt.Sprintf("%d added, %d changed, %d destroyed; re-plan clean", r.Applied.Add, r.Applied.Change, r.Applied.Destroy)
	case r.Plan != nil && r.Status != NoChanges && r.Status != InSync:
		return r.Plan.Counts()
	}
	return ""
}
