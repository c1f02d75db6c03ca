package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/app/host"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/toolchain"
)

// applyFlags are the flags plan, apply, drift and unlock share.
type applyFlags struct {
	selection
	format        string
	lockTimeout   time.Duration
	backendConfig string
	varFiles      []string
	sha           string
	concurrency   int
	maskEnv       []string
	mirror        string
	extra         []string // after --
}

func (f *applyFlags) add(c *cobra.Command, withSelection, withSHA bool) {
	if withSelection {
		f.addFlags(c, layers.All)
		f.needsEnv = true
		c.Flags().IntVar(&f.concurrency, "concurrency", 0, "layers run at once (default: cores + 1)")
		c.Flags().StringSliceVar(&f.varFiles, "var-file", nil, "a .tfvars or .tfvars.json file passed to every layer (repeatable)")
		c.Flags().StringSliceVar(&f.maskEnv, "mask-env", nil, "mask the values of these environment variables in every report (repeatable)")
	}
	if withSHA {
		c.Flags().StringVar(&f.sha, "sha", "", "the commit being planned or applied (default: GITHUB_SHA, else the source's HEAD)")
	}
	c.Flags().StringVar(&f.format, "format", "text", "text, markdown or json")
	c.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to wait for a state lock held by another run (e.g. 5m)")
	c.Flags().StringVar(&f.backendConfig, "backend-config", "", "a -backend-config file: backend settings and credentials (never committed)")
	c.Flags().StringVar(&f.mirror, "provider-mirror", "",
		"install the providers this filesystem mirror has from it, the others as usual "+
			"(default: $"+toolchain.MirrorEnv+", else infra.hcl's provider_mirror, else none: providers install as terraform init does)")
}

// extraArgs takes what follows -- as arguments for the engine; nothing else may be
// positional.
func (f *applyFlags) extraArgs(c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	if dash < 0 && len(args) > 0 || dash > 0 {
		return &exitError{code: report.ExitBadInput, msg: fmt.Sprintf("infra: unexpected argument %q (flags only; engine arguments go after --)", args[0])}
	}
	if dash == 0 {
		f.extra = args
	}
	return nil
}

func (a *app) applyCommands() []*cobra.Command {
	var planOut, plansDir string
	planFlags, applyF, driftFlags := &applyFlags{}, &applyFlags{}, &applyFlags{}
	planCmd := &cobra.Command{
		Use:   "plan [flags] [-- engine arguments]",
		Short: "plan each layer against its remote state and show what would change",
		Long: `plan each selected layer (init with the real backend, plan, show -json) and print
what would change, sensitive values redacted and secrets masked. With --out, each
plan is saved with the commit and hashes that apply checks.`,
		Args: planFlags.extraArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.runApply(c.Context(), applyRun{op: apply.OpPlan, flags: planFlags, adjust: func(o *usecase.ApplyOptions) error {
				if planOut == "" {
					return nil
				}
				if err := os.MkdirAll(planOut, 0o700); err != nil {
					return a.badInput("--out: %v", err)
				}
				o.SavePlan = func(m plan.Meta, data []byte) error { return plan.Save(planOut, m, data) }
				return nil
			}})
		},
	}
	planFlags.add(planCmd, true, true)
	planCmd.Flags().StringVar(&planOut, "out", "", "save the plans (and what they were made from) in this directory, for apply --plans")

	applyCmd := &cobra.Command{
		Use:   "apply [flags] [-- engine arguments]",
		Short: "apply the layers in dependency order, then re-plan to prove it converged",
		Long: `apply the selected layers in dependency order, independent layers at once.
A layer calling module "nodep" (or with bootstrap_targets in infra.hcl) is applied
in two phases: the bootstrap targets, then everything. A failed layer stops every
layer depending on it. After each apply a re-plan must show no changes.
With --plans, the saved plans are applied instead, each only if it was made at
this commit from these files.`,
		Args: applyF.extraArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.runApply(c.Context(), applyRun{op: apply.OpApply, flags: applyF, adjust: func(o *usecase.ApplyOptions) error {
				if plansDir == "" {
					return nil
				}
				if st, err := os.Stat(plansDir); err != nil || !st.IsDir() {
					return a.badInput("--plans %q is not a directory", plansDir)
				}
				o.Plans = os.DirFS(plansDir)
				return nil
			}})
		},
	}
	applyF.add(applyCmd, true, true)
	applyCmd.Flags().StringVar(&plansDir, "plans", "", "apply the plans saved by plan --out in this directory")

	var issues bool
	var gh githubFlags
	driftCmd := &cobra.Command{
		Use:   "drift [flags] [-- engine arguments]",
		Short: "check whether the code matches the live state, and whether reality moved",
		Long: `for each selected layer: plan -detailed-exitcode (does the code differ from the
live state?) and plan -refresh-only (did anything change outside the engine?).
Exits 1 when any layer drifted. With --issues, keeps one GitHub issue per layer:
opened or updated while it drifts, closed when it is in sync again (a layer that
could not be checked leaves its issue alone).`,
		Args: driftFlags.extraArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			run := applyRun{op: apply.OpDrift, flags: driftFlags}
			driftFlags.sha = gh.SHA
			if issues {
				t, err := a.target(&gh)
				if err != nil {
					return err
				}
				// What a dry run would send goes to stderr: stdout is the report.
				client, err := a.client(c.Context(), &gh, t, a.stderr)
				if err != nil {
					return err
				}
				driftFlags.sha = t.SHA
				run.after = func(rep *apply.Report) error {
					lines, err := forge.SyncIssues(c.Context(), client, apply.DriftIssues(rep, t.RunURL), t.RunURL)
					for _, l := range lines {
						fmt.Fprintln(a.stderr, l)
					}
					if err != nil {
						return githubError(err)
					}
					return nil
				}
			}
			return a.runApply(c.Context(), run)
		},
	}
	driftFlags.add(driftCmd, true, false)
	gh.addFlags(driftCmd)
	driftCmd.Flags().BoolVar(&issues, "issues", false, "keep one GitHub issue per drifted layer (auth: GITHUB_TOKEN, or a GitHub App)")

	return []*cobra.Command{planCmd, applyCmd, driftCmd, a.unlockCommand()}
}

func (a *app) unlockCommand() *cobra.Command {
	f := &applyFlags{}
	var layer, lockID string
	c := &cobra.Command{
		Use:   "unlock --layer LAYER --lock-id ID",
		Short: "release a layer's state lock, given its exact lock ID",
		Long: `release the state lock of one layer, only when --lock-id is exactly the ID of the
lock held (shown by the run that could not take it). A wrong ID is refused and
the holder named.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if layer == "" || lockID == "" {
				return a.badInput("unlock needs --layer and --lock-id")
			}
			f.layer = []string{layer}
			return a.runApply(c.Context(), applyRun{op: apply.OpUnlock, flags: f, lockID: lockID})
		},
	}
	f.add(c, false, false)
	c.Flags().StringVar(&layer, "layer", "", "the layer whose lock to release")
	c.Flags().StringVar(&lockID, "lock-id", "", "the exact ID of the lock to release")
	return c
}

// applyRun is one invocation of plan, apply, drift or unlock.
type applyRun struct {
	op     apply.Op
	flags  *applyFlags
	adjust func(*usecase.ApplyOptions) error // the command's own options
	lockID string
	// after runs once the report is printed (drift's issues); its failure makes
	// the exit code a service error unless the run's own is worse.
	after func(*apply.Report) error
}

// runApply translates the flags into the use case's options, runs it and
// renders the report.
func (a *app) runApply(ctx context.Context, r applyRun) error {
	f := r.flags
	o := usecase.ApplyOptions{Settings: a.settings(), Selection: f.selection.value(), Op: r.op, Format: f.format,
		LockTimeout: f.lockTimeout, Concurrency: f.concurrency, ExtraArgs: f.extra, MaskValues: envValues(f.maskEnv),
		LockID: r.lockID, Getenv: os.Getenv}
	if err := o.Validate(); err != nil { // before git and files are asked
		return a.fail(err)
	}
	var err error
	if o.Commit, err = a.commit(ctx, f.sha); err != nil {
		return err
	}
	for _, v := range f.varFiles {
		abs, err := filepath.Abs(v)
		if err != nil || !isFile(abs) {
			return a.badInput("--var-file %q is not a readable file", v)
		}
		o.VarFiles = append(o.VarFiles, abs)
	}
	if f.backendConfig != "" {
		if o.BackendConfig, err = readSmall(f.backendConfig); err != nil {
			return a.badInput("--backend-config: %v", err)
		}
	}
	if r.adjust != nil {
		if err := r.adjust(&o); err != nil {
			return err
		}
	}
	stopProgress := a.applyProgress(&o)
	defer stopProgress()
	res, err := usecase.Apply(ctx, a.repo(), o, host.Applier{Source: a.source, Mirror: f.mirror, Out: a.sink()}, a.sink())
	stopProgress()
	if err != nil {
		return a.fail(err)
	}
	masker, rep := res.Masker, res.Report
	if err := apply.Render(a.stdout, rep, f.format, masker); err != nil {
		return &exitError{code: report.ExitToolError, msg: "infra: writing the report: " + err.Error()}
	}
	code := rep.ExitCode()
	if r.after != nil && code != report.ExitBadInput {
		if err := r.after(rep); err != nil {
			var ex *exitError
			if !errors.As(err, &ex) || code == report.ExitToolError {
				fmt.Fprintln(a.stderr, err.Error())
				return exit(report.ExitToolError)
			}
			return err // the report said its part; GitHub's failure decides the code
		}
	}
	return exit(code)
}

func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return data, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func envValues(names []string) []string {
	var out []string
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// commit is --sha, else GITHUB_SHA, else the source's HEAD, else unknown.
func (a *app) commit(ctx context.Context, sha string) (string, error) {
	if sha == "" {
		sha = os.Getenv("GITHUB_SHA")
	}
	if sha != "" {
		if strings.HasPrefix(sha, "-") || strings.ContainsAny(sha, " \t\n/") {
			return "", a.badInput("--sha %q is not a commit", sha)
		}
		return sha, nil
	}
	return a.sourceHead(ctx), nil
}

// sourceHead is the source's git HEAD, "" when it has none.
func (a *app) sourceHead(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "-C", a.source, "rev-parse", "--verify", "-q", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// heartbeat is how often a long step says it is still running.
const heartbeat = 30 * time.Second

// applyProgress prints each layer's steps on stderr, and every heartbeat the
// layers still running, so long applies never look hung.
func (a *app) applyProgress(opts *usecase.ApplyOptions) func() {
	if a.quiet {
		return func() {}
	}
	type step struct {
		e  apply.Event
		at time.Time
	}
	var mu sync.Mutex
	running := map[string]step{}
	opts.OnEvent = func(e apply.Event, line string) {
		mu.Lock()
		defer mu.Unlock()
		if e.Result != nil {
			delete(running, e.Layer.Dir)
		} else {
			running[e.Layer.Dir] = step{e, time.Now()}
		}
		a.progress("%s", line)
	}
	stop := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				names := make([]string, 0, len(running))
				for n := range running {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					st := running[n]
					a.progress("%s %s: still running (%s for %s)", st.e.Op, n, st.e.Step, time.Since(st.at).Round(time.Second))
				}
				mu.Unlock()
			}
		}
	}()
	return func() { once.Do(func() { close(stop) }) }
}
