package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/state"
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
	// The content of a -backend-config file: backend settings and credentials.
	// +optional
	backendConfig *dagger.Secret,
	// Layer variables: the content of a .tfvars or .tfvars.json file.
	// +optional
	tfVars *dagger.Secret,
	// How long to wait for a state lock held by another run (e.g. 5m).
	// +optional
	// +default="0s"
	lockTimeout string,
	// The commit being planned (default: the source's HEAD).
	// +optional
	sha string,
	// Values to mask in the report, besides the credentials and sensitive variables.
	// +optional
	mask []*dagger.Secret,
	// Arguments passed through to plan, as after -- natively (-destroy, -target=ADDR).
	// +optional
	extraArgs []string,
	// Layers run at once (default: cores + 1).
	// +optional
	concurrency int,
) (*dagger.Directory, error) {
	run, err := m.prepareApply(ctx, apply.OpPlan, applyArgs{layer, base, format, backendConfig, tfVars, lockTimeout, sha, mask, extraArgs, concurrency})
	if err != nil {
		return nil, err
	}
	defer run.close()
	out, err := os.MkdirTemp(".", "plans-")
	if err != nil {
		return nil, err
	}
	run.opts.SavePlan = func(meta plan.Meta, data []byte) error { return plan.Save(out, meta, data) }
	rep, err := apply.Plan(ctx, run.selected, run.opts)
	if err != nil {
		return nil, err
	}
	text, err := run.render(rep)
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
	// The content of a -backend-config file: backend settings and credentials.
	// +optional
	backendConfig *dagger.Secret,
	// Layer variables: the content of a .tfvars or .tfvars.json file.
	// +optional
	tfVars *dagger.Secret,
	// How long to wait for a state lock held by another run (e.g. 5m).
	// +optional
	// +default="0s"
	lockTimeout string,
	// The commit being applied (default: the source's HEAD); saved plans must match it.
	// +optional
	sha string,
	// Values to mask in the report, besides the credentials and sensitive variables.
	// +optional
	mask []*dagger.Secret,
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
	run, err := m.prepareApply(ctx, apply.OpApply, applyArgs{layer, base, format, backendConfig, tfVars, lockTimeout, sha, mask, extraArgs, concurrency})
	if err != nil {
		return "", err
	}
	defer run.close()
	if plans != nil {
		dir, err := exportDir(ctx, plans)
		if err != nil {
			return "", err
		}
		run.opts.Plans = os.DirFS(dir)
	}
	rep, err := apply.Apply(ctx, run.selected, run.opts)
	return run.finish(rep, err)
}

// Drift checks each selected layer: does the code differ from the live state
// (plan -detailed-exitcode), and did reality move (plan -refresh-only). Fails when
// a layer drifted, with the report. With --issues, keeps one GitHub issue per
// layer: opened or updated while it drifts, closed once it is in sync; what was
// done (or, with --dry-run, the requests it would send) follows the report.
// +cache="never"
func (m *Infra) Drift(
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
	// The content of a -backend-config file: backend settings and credentials.
	// +optional
	backendConfig *dagger.Secret,
	// Layer variables: the content of a .tfvars or .tfvars.json file.
	// +optional
	tfVars *dagger.Secret,
	// How long to wait for a state lock held by another run (e.g. 5m).
	// +optional
	// +default="0s"
	lockTimeout string,
	// Values to mask in the report, besides the credentials and sensitive variables.
	// +optional
	mask []*dagger.Secret,
	// Arguments passed through to the engine, as after -- natively (-destroy, -target=ADDR).
	// +optional
	extraArgs []string,
	// Layers run at once (default: cores + 1).
	// +optional
	concurrency int,
	// Keep one GitHub issue per drifted layer.
	// +optional
	issues bool,
	// OWNER/NAME of the repository the issues are kept in.
	// +optional
	repo string,
	// The commit checked (full SHA), shown in the report.
	// +optional
	sha string,
	// GitHub API root, for GitHub Enterprise Server or a compatible API.
	// +optional
	apiUrl string,
	// Print the requests that would change GitHub instead of sending them.
	// +optional
	dryRun bool,
	// Link to the run, shown in the issues.
	// +optional
	runUrl string,
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
	var log strings.Builder
	var target prloop.Target
	var client *forge.Client
	if issues {
		gh := ghArgs{repo: repo, sha: sha, apiURL: apiUrl, runURL: runUrl, event: event, eventName: eventName,
			dryRun: dryRun, token: token, appID: appId, installationID: installationId, appKey: appKey}
		var err error
		if target, client, err = gh.connect(ctx, &log); err != nil {
			return "", err
		}
		sha = target.SHA
	}
	run, err := m.prepareApply(ctx, apply.OpDrift, applyArgs{layer, base, format, backendConfig, tfVars, lockTimeout, sha, mask, extraArgs, concurrency})
	if err != nil {
		return "", err
	}
	defer run.close()
	rep, err := apply.Drift(ctx, run.selected, run.opts)
	if err != nil {
		return "", err
	}
	text, err := run.render(rep)
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
	// The content of a -backend-config file: backend settings and credentials.
	// +optional
	backendConfig *dagger.Secret,
) (string, error) {
	run, err := m.prepareApply(ctx, apply.OpUnlock, applyArgs{layer: []string{layer}, format: format, backendConfig: backendConfig, lockTimeout: "0s"})
	if err != nil {
		return "", err
	}
	defer run.close()
	if len(run.selected) != 1 {
		return "", fmt.Errorf("unlock works on one layer; %q selects %d", layer, len(run.selected))
	}
	rep, err := apply.Unlock(ctx, run.selected[0], lockID, run.opts)
	return run.finish(rep, err)
}

type applyArgs struct {
	layer         []string
	base, format  string
	backendConfig *dagger.Secret
	tfVars        *dagger.Secret
	lockTimeout   string
	sha           string
	mask          []*dagger.Secret
	extraArgs     []string
	concurrency   int
}

// applyRun is a prepared run: its layers, options and scratch files.
type applyRun struct {
	selected []*layers.Layer
	opts     apply.Options
	format   string
	scratch  []string
}

func (r *applyRun) close() {
	for _, d := range r.scratch {
		os.RemoveAll(d)
	}
}

func (r *applyRun) render(rep *apply.Report) (string, error) {
	var b strings.Builder
	err := apply.Render(&b, rep, r.format, r.opts.Masker)
	return b.String(), err
}

// finish renders the report and fails the function when the run did not succeed.
func (r *applyRun) finish(rep *apply.Report, err error) (string, error) {
	if err != nil {
		return "", err
	}
	text, err := r.render(rep)
	if err != nil {
		return "", err
	}
	if rep.ExitCode() != report.ExitOK {
		return "", fmt.Errorf("%s\n%s", text, apply.Headline(rep))
	}
	return text, nil
}

// prepareApply does for the Dagger functions what the native CLI does before a
// run: select the layers, read the secrets, and build a container runner whose
// engine containers carry the backend config (without its credentials), the
// credentials as secret variables, the variables file and a run ID that keeps
// every command out of Dagger's cache.
func (m *Infra) prepareApply(ctx context.Context, op apply.Op, a applyArgs) (*applyRun, error) {
	if err := report.CheckFormat(a.format); err != nil {
		return nil, err
	}
	timeout, err := time.ParseDuration(a.lockTimeout)
	if err != nil || timeout < 0 {
		return nil, fmt.Errorf("--lock-timeout %q is not a duration such as 30s or 5m", a.lockTimeout)
	}
	set, cfg, err := m.discover(ctx)
	if err != nil {
		return nil, err
	}
	selected, err := set.Select(a.layer, func() ([]string, error) { return m.changedFiles(ctx, a.base) })
	if err != nil {
		return nil, err
	}
	var masks []string
	for _, s := range a.mask {
		v, err := s.Plaintext(ctx)
		if err != nil {
			return nil, err
		}
		masks = append(masks, v)
	}
	masker, err := plan.NewMasker(masks, cfg.MaskPatterns)
	if err != nil {
		return nil, err
	}
	run := &applyRun{selected: selected, format: a.format}
	src, err := exportDir(ctx, m.Source)
	if err != nil {
		return nil, err
	}
	run.scratch = append(run.scratch, src)
	engine := cfg.EngineFor(m.Engine)
	run.opts = apply.Options{Engine: engine, Source: repofs.Dir(src), LockTimeout: timeout, ExtraArgs: a.extraArgs,
		Concurrency: a.concurrency, Bootstrap: cfg.Bootstrap, Masker: masker, Commit: a.sha}
	if run.opts.Commit == "" && op != apply.OpUnlock {
		run.opts.Commit = m.headCommit(ctx)
	}

	id := runID()
	var mounts []func(*dagger.Container) *dagger.Container
	if a.backendConfig != nil {
		content, err := a.backendConfig.Plaintext(ctx)
		if err != nil {
			return nil, err
		}
		file, err := state.ParseConfigFile([]byte(content))
		if err != nil {
			return nil, err
		}
		run.opts.Backend, run.opts.BackendConfigPath = file, backendMount
		masker.Add(file.Secrets()...)
		sanitized := dag.SetSecret("infra-backend-"+id, string(file.WithoutCredentials()))
		mounts = append(mounts, func(c *dagger.Container) *dagger.Container { return c.WithMountedSecret(backendMount, sanitized) })
		for name, value := range file.CredentialEnv() {
			secret := dag.SetSecret("infra-"+strings.ToLower(name)+"-"+id, value)
			mounts = append(mounts, func(c *dagger.Container) *dagger.Container { return c.WithSecretVariable(name, secret) })
		}
	}
	if a.tfVars != nil {
		content, err := a.tfVars.Plaintext(ctx)
		if err != nil {
			return nil, err
		}
		// The engine reads a var file as JSON only when its name says so.
		name := varsMount + ".tfvars"
		if strings.HasPrefix(strings.TrimSpace(content), "{") {
			name += ".json"
		}
		run.opts.VarFiles = []string{name}
		vars := a.tfVars
		mounts = append(mounts, func(c *dagger.Container) *dagger.Container { return c.WithMountedSecret(name, vars) })
	}
	runner := newContainerRunner(m.Source, engine, toolchain.Pinned(), nil)
	runner.prepare = func(c *dagger.Container) *dagger.Container {
		c = c.WithEnvVariable("INFRA_RUN_ID", id)
		for _, mount := range mounts {
			c = mount(c)
		}
		return c
	}
	run.opts.Runner = runner
	run.opts.Files = containerFiles{runner}
	return run, nil
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
	if m.GitDir == nil {
		return ""
	}
	out, err := dag.Container().From(gitImage).
		WithMountedDirectory("/src/.git", m.GitDir).
		WithWorkdir("/src").
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*").
		WithExec([]string{"git", "rev-parse", "--verify", "-q", "HEAD"}).
		Stdout(ctx)
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
