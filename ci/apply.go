package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/infra-flash/infra/ci/internal/dagger"
	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Where the secrets are mounted in the engine containers.
const (
	backendMount = "/run/infra/backend.hcl"
	varsMount    = "/run/infra/vars"
)

// Plan plans the selected layers against their remote state and returns a
// directory holding each layer's plan file (<layer>.tfplan), what it was made from
// (<layer>.tfplan.json: commit, source and plan hashes) and the report
// (report.txt, report.md or report.json). Pass the directory to apply --plans.
// Plan files hold variable values in clear: treat the directory as a secret.
// +cache="never"
func (m *Infra) Plan(
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
	// The commit being planned (default: the source's HEAD).
	// +optional
	sha string,
	// Arguments passed through to plan, as after -- natively (-destroy, -target=ADDR).
	// +optional
	extraArgs []string,
	// Layers run at once (default: cores + 1).
	// +optional
	concurrency int,
) (*dagger.Directory, error) {
	out, err := os.MkdirTemp(".", "plans-")
	if err != nil {
		return nil, err
	}
	run, err := m.runApply(ctx, apply.OpPlan, applyArgs{layer, base, format, sha, extraArgs, concurrency},
		func(o *usecase.ApplyOptions) error {
			o.SavePlan = func(meta plan.Meta, data []byte) error { return plan.Save(out, meta, data) }
			return nil
		})
	if err != nil {
		return nil, err
	}
	rep := run.Report
	text, err := run.render(format)
	if err != nil {
		return nil, err
	}
	fmt.Fprint(os.Stderr, text)
	if rep.ExitCode() != report.ExitOK {
		return nil, fmt.Errorf("%s\n%s", text, apply.Headline(rep))
	}
	ext := map[string]string{"text": "txt", "markdown": "md", "json": "json"}[format]
	if err := os.WriteFile(filepath.Join(out, "report."+ext), []byte(text), 0o644); err != nil {
		return nil, err
	}
	// Loaded now: the scratch directory does not outlive the call.
	return dag.CurrentModule().Workdir(filepath.Base(out)).Sync(ctx)
}

// Apply applies the selected layers in dependency order (bootstrap targets first,
// independent layers at once, dependents of a failed layer skipped) and re-plans
// each to prove it converged; with --plans, applies those saved plans, each only
// if it was made at this commit from these files. Fails when anything did not
// apply cleanly, with the report.
// +cache="never"
func (m *Infra) Apply(
	ctx context.Context,
	// all, changed, or layers by directory (2.platform), name (platform) or ID (L2).
	// +optional
	// +default=["all"]
	layer []string,
	// What "changed" compares with (default: origin/<github-base-ref>, else origin/main, else main).
	// +optional
	// +default="origin/main"
	base string,
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
	// The commit being applied (default: the source's HEAD); saved plans must match it.
	// +optional
	sha string,
	// Arguments passed through to the engine, as after -- natively (-destroy, -target=ADDR).
	// +optional
	extraArgs []string,
	// Layers run at once (default: cores + 1).
	// +optional
	concurrency int,
	// Saved plans, as returned by plan.
	// +optional
	plans *dagger.Directory,
) (string, error) {
	var plansDir string
	if plans != nil {
		dir, err := exportDir(ctx, plans)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		plansDir = dir
	}
	run, err := m.runApply(ctx, apply.OpApply, applyArgs{layer, base, format, sha, extraArgs, concurrency},
		func(o *usecase.ApplyOptions) error {
			if plansDir != "" {
				o.Plans = os.DirFS(plansDir)
			}
			return nil
		})
	return run.finish(format, err)
}

// Drift checks each selected layer: does the code differ from the live state
// (plan -detailed-exitcode), and did reality move (plan -refresh-only). Fails when
// a layer drifted, with the report. (`github ... drift` also keeps one issue per
// drifted layer.)
// +cache="never"
func (m *Infra) Drift(
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
) (string, error) {
	return m.drift(ctx, applyArgs{layer: layer, base: base, format: format, extraArgs: extraArgs, concurrency: concurrency}, nil)
}

// drift runs the drift check; with a forge, it keeps the drift issues after the report.
func (m *Infra) drift(ctx context.Context, a applyArgs, gh *Github) (string, error) {
	var log strings.Builder
	var target prloop.Target
	var client *forge.Client
	if gh != nil {
		var err error
		if target, client, err = gh.connect(ctx, &log, 0, a.sha); err != nil {
			return "", err
		}
		a.sha = target.SHA
	}
	run, err := m.runApply(ctx, apply.OpDrift, a, nil)
	if err != nil {
		return "", err
	}
	rep := run.Report
	text, err := run.render(a.format)
	if err != nil {
		return "", err
	}
	code := rep.ExitCode()
	if client != nil && code != report.ExitBadInput {
		lines, err := forge.SyncIssues(ctx, client, apply.DriftIssues(rep, target.RunURL), target.RunURL)
		for _, l := range lines {
			log.WriteString(l + "\n")
		}
		if err != nil {
			return "", fmt.Errorf("%s\n%s%s", text, log.String(), err)
		}
	}
	text += log.String()
	if code != report.ExitOK {
		return "", fmt.Errorf("%s\n%s", text, apply.Headline(rep))
	}
	return text, nil
}

// Unlock releases a layer's state lock, only when lock-id is exactly the ID of the
// lock held; a wrong ID is refused, naming the holder.
// +cache="never"
func (m *Infra) Unlock(
	ctx context.Context,
	// The layer whose lock to release.
	layer string,
	// The exact ID of the lock to release.
	lockID string,
	// text, markdown or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	run, err := m.runApply(ctx, apply.OpUnlock, applyArgs{layer: []string{layer}, format: format},
		func(o *usecase.ApplyOptions) error { o.LockID = lockID; return nil })
	return run.finish(format, err)
}

// applyArgs are the arguments plan, apply and drift share; the backend, the
// variables and the masks come from the object (WithBackend, WithVarFile, WithMask).
type applyArgs struct {
	layer        []string
	base, format string
	sha          string
	extraArgs    []string
	concurrency  int
}

// applyRun is a finished run of the apply use case.
type applyRun struct{ *usecase.ApplyResult }

// render renders the report through the run's masker.
func (r applyRun) render(format string) (string, error) {
	var b strings.Builder
	err := apply.Render(&b, r.Report, format, r.Masker)
	return b.String(), err
}

// finish returns the report, or fails with it when the run did not pass.
func (r *applyRun) finish(format string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	text, err := r.render(format)
	if err != nil {
		return "", err
	}
	if r.Report.ExitCode() != report.ExitOK {
		return "", fmt.Errorf("%s\n%s", text, apply.Headline(r.Report))
	}
	return text, nil
}

// runApply turns the function's arguments into the use case's options (secrets
// read, the var file mounted) and runs it with containers as the executor.
func (m *Infra) runApply(ctx context.Context, op apply.Op, a applyArgs, adjust func(*usecase.ApplyOptions) error) (*applyRun, error) {
	o, ex, err := m.applyOptions(ctx, op, a)
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		if err := adjust(&o); err != nil {
			return nil, err
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Commit == "" && op != apply.OpUnlock {
		o.Commit = m.headCommit(ctx)
	}
	src, err := exportDir(ctx, m.Source)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(src)
	ex.fsys = repofs.Dir(src)
	res, err := usecase.Apply(ctx, m.repo(ctx, ex.fsys), o, ex, sink())
	if err != nil {
		return nil, err
	}
	ex.keepSavedState(ctx, res.Report)
	return &applyRun{res}, nil
}

// applyOptions reads the object's secrets into the use case's options and
// prepares the container executor with the var file mounted.
func (m *Infra) applyOptions(ctx context.Context, op apply.Op, a applyArgs) (usecase.ApplyOptions, *containerApplier, error) {
	timeout := time.Duration(0)
	if m.LockTimeout != "" {
		var err error
		if timeout, err = time.ParseDuration(m.LockTimeout); err != nil || timeout < 0 {
			return usecase.ApplyOptions{}, nil, fmt.Errorf("--lock-timeout %q is not a duration such as 30s or 5m", m.LockTimeout)
		}
	}
	o := usecase.ApplyOptions{Settings: m.settings(), Selection: m.selection(a.layer, a.base), Op: op,
		Format: a.format, LockTimeout: timeout, Concurrency: a.concurrency, ExtraArgs: a.extraArgs, Commit: a.sha}
	for _, s := range m.Mask {
		v, err := s.Plaintext(ctx)
		if err != nil {
			return o, nil, err
		}
		o.MaskValues = append(o.MaskValues, v)
	}
	if m.BackendConfig != nil {
		content, err := m.BackendConfig.Plaintext(ctx)
		if err != nil {
			return o, nil, err
		}
		o.BackendConfig = []byte(content)
	}
	ex := &containerApplier{src: m.Source, id: runID(), op: op}
	if m.VarFile != nil {
		content, err := m.VarFile.Plaintext(ctx)
		if err != nil {
			return o, nil, err
		}
		// The engine reads a var file as JSON only when its name says so.
		name := varsMount + ".tfvars"
		if strings.HasPrefix(strings.TrimSpace(content), "{") {
			name += ".json"
		}
		o.VarFiles = []string{name}
		vars := m.VarFile
		ex.mounts = append(ex.mounts, func(c *dagger.Container) *dagger.Container { return c.WithMountedSecret(name, vars) })
	}
	return o, ex, nil
}

// containerApplier runs the engine in the pinned images, every command a new one
// for Dagger's cache (the run ID), with the backend config and the var file
// mounted as secrets.
type containerApplier struct {
	op     apply.Op
	runner *containerRunner // the open session's, once opened
	src    *dagger.Directory
	fsys   fs.FS
	id     string
	mounts []func(*dagger.Container) *dagger.Container
}

func (c *containerApplier) Open(_ context.Context, run usecase.ApplyRun) (*usecase.ApplySession, error) {
	if c.op == apply.OpApply {
		if err := refuseLocalState(c.fsys, run); err != nil {
			return nil, err
		}
	}
	sess := &usecase.ApplySession{Source: c.fsys}
	mounts := c.mounts
	if run.Backend != nil {
		sess.BackendConfigPath = backendMount
		sanitized := dag.SetSecret("infra-backend-"+c.id, string(run.Backend.WithoutCredentials()))
		mounts = append(mounts, func(ctr *dagger.Container) *dagger.Container { return ctr.WithMountedSecret(backendMount, sanitized) })
		for name, value := range run.Backend.CredentialEnv() {
			secret := dag.SetSecret("infra-"+strings.ToLower(name)+"-"+c.id, value)
			mounts = append(mounts, func(ctr *dagger.Container) *dagger.Container { return ctr.WithSecretVariable(name, secret) })
		}
	}
	runner := newContainerRunner(c.src, run.Model.Engine, toolchain.Pinned(), nil)
	runner.prepare = func(ctr *dagger.Container) *dagger.Container {
		ctr = ctr.WithEnvVariable("INFRA_RUN_ID", c.id)
		for _, mount := range mounts {
			ctr = mount(ctr)
		}
		return ctr
	}
	sess.Runner, sess.Files = runner, containerFiles{runner}
	c.runner = runner
	return sess, nil
}

// savedStateVolume keeps, beyond the container that wrote it, the errored.tfstate
// of an apply that could not save its state: the only record of what it created.
const savedStateVolume = "infra-saved-state"

// savedStateID is the name a kept file has in the volume: the call's run ID and
// the file's path in the repository.
var savedStateID = regexp.MustCompile(`^[0-9]+-[0-9a-f]{16}/([A-Za-z0-9_.+@=,-]+/)*errored\.tfstate$`)

// keepSavedState copies each errored.tfstate the run left in a container into the
// engine's volume and says in the layer's reason how to get it.
func (c *containerApplier) keepSavedState(ctx context.Context, rep *apply.Report) {
	for i := range rep.Layers {
		r := &rep.Layers[i]
		if r.SavedState == "" || c.runner == nil {
			continue
		}
		if _, err := fs.Stat(c.fsys, r.SavedState); err == nil {
			continue // in the caller's source already (a refused layer)
		}
		ctr, err := containerFiles{c.runner}.session(apply.Session(r.Layer))
		id := c.id + "/" + r.SavedState
		if err == nil && savedStateID.MatchString(id) {
			_, err = dag.Container().From(gitImage).
				WithMountedCache("/saved", dag.CacheVolume(savedStateVolume)).
				WithMountedFile("/in", ctr.File(srcMount+"/"+r.SavedState)).
				WithEnvVariable("ID", id).
				WithExec([]string{"sh", "-c", `mkdir -p "$(dirname "/saved/$ID")" && cp /in "/saved/$ID"`}).
				Sync(ctx)
		} else if err == nil {
			err = fmt.Errorf("%s is not a path the volume keeps", r.SavedState)
		}
		if err != nil {
			r.Reason += fmt.Sprintf(". In this Dagger call the file is inside the function's container, and keeping it failed: %v", err)
			continue
		}
		r.Reason += fmt.Sprintf(". In this Dagger call the file was written inside the function's container; it is kept in the engine's cache volume %s: "+
			"get it with `dagger call saved-state --id %s export --path %s`", savedStateVolume, id, r.SavedState)
	}
}

// SavedState returns an errored.tfstate that an apply in a container could not save
// to its backend, kept in this engine's cache volume under the ID the apply's
// report gave: export it into the repository and push it (`state push`) once the
// backend is back.
// +cache="never"
func (m *Infra) SavedState(
	ctx context.Context,
	// The ID the apply's report gave (RUN/PATH/errored.tfstate).
	id string,
) (*dagger.File, error) {
	if !savedStateID.MatchString(id) || strings.Contains(id, "/../") || strings.Contains(id, "/./") {
		return nil, usecase.BadInput("--id %q is not the ID of a kept errored.tfstate: copy it from the apply's report", id)
	}
	ctr := dag.Container().From(gitImage).
		WithMountedCache("/saved", dag.CacheVolume(savedStateVolume)).
		WithEnvVariable("ID", id).
		WithEnvVariable("INFRA_RUN_ID", runID()). // the volume changes under the same command
		WithExec([]string{"sh", "-c", `test -f "/saved/$ID" || { echo "no errored.tfstate is kept under $ID on this engine (the volume is the engine's own: ask the engine that ran the apply)" >&2; exit 3; }; cp "/saved/$ID" /errored.tfstate`})
	if _, err := ctr.Sync(ctx); err != nil {
		return nil, err
	}
	return ctr.File("/errored.tfstate"), nil
}

// refuseLocalState refuses to apply a layer whose state is a local file: the
// engine would write it inside the container, and it would be gone with it. Plan
// and drift write no state, so they run.
func refuseLocalState(fsys fs.FS, run usecase.ApplyRun) error {
	for _, l := range run.Selected {
		settings, statePath, err := apply.StateSettings(fsys, l.Path, run.Backend, nil)
		if err != nil {
			return usecase.BadInput("%s: %v", l.Path, err)
		}
		if settings.Type == "" || settings.Type == "local" {
			return usecase.BadInput("%s keeps its state in a local file (%s), which an apply here would write inside the function's container and lose with it: "+
				"apply it with the native CLI (infra apply), where the file stays in the repository, or give the layer a remote backend", l.Path, statePath)
		}
	}
	return nil
}

// runID is unique per function call: it makes every engine command a new one for
// Dagger's cache, so an apply or a drift check is never replayed.
func runID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d-%s", time.Now().UnixNano(), hex.EncodeToString(b))
}

// exportDir copies a directory into the module's scratch space, where the Go
// packages read it as files.
func exportDir(ctx context.Context, d *dagger.Directory) (string, error) {
	dir, err := os.MkdirTemp("", "infra-")
	if err != nil {
		return "", err
	}
	if _, err := d.Export(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// headCommit is the source's HEAD, or "" without git history.
func (m *Infra) headCommit(ctx context.Context) string {
	g, err := m.ownGit(ctx)
	if err != nil {
		if m.GitDir != nil {
			fmt.Fprintln(os.Stderr, "warning: the commit is not recorded (pass --sha): "+err.Error())
		}
		return ""
	}
	out, err := g(ctx, "rev-parse", "--verify", "-q", "HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// containerFiles moves plan files in and out of a session's container.
type containerFiles struct{ r *containerRunner }

func (f containerFiles) session(name string) (*dagger.Container, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	ctr, ok := f.r.sessions[name]
	if !ok {
		return nil, fmt.Errorf("no container for session %s", name)
	}
	return ctr, nil
}

func (f containerFiles) Get(ctx context.Context, session, p string) ([]byte, error) {
	ctr, err := f.session(session)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "infra-file-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dst := filepath.Join(tmp, path.Base(p))
	if _, err := ctr.File(srcMount+"/"+p).Export(ctx, dst); err != nil {
		return nil, err
	}
	return os.ReadFile(dst)
}

func (f containerFiles) Put(ctx context.Context, session, p string, data []byte) error {
	ctr, err := f.session(session)
	if err != nil {
		return err
	}
	// Files reach the engine through the module's working directory, byte for byte.
	tmp, err := os.MkdirTemp(".", "put-")
	if err != nil {
		return err
	}
	name := filepath.Join(tmp, path.Base(p))
	if err := os.WriteFile(name, data, 0o600); err != nil {
		return err
	}
	file := dag.CurrentModule().WorkdirFile(name)
	if _, err := file.Sync(ctx); err != nil {
		return err
	}
	os.RemoveAll(tmp)
	f.r.mu.Lock()
	f.r.sessions[session] = ctr.WithFile(srcMount+"/"+p, file)
	f.r.mu.Unlock()
	return nil
}
