package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/app/host"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/repofs"
)

func (a *app) commentCommand() *cobra.Command {
	var gh githubFlags
	f := &applyFlags{}
	var plansDir string
	var release bool
	var workflowTrusted string
	c := &cobra.Command{
		Use:   "comment",
		Short: "answer a pull-request comment command: /check, /plan, /apply, /unlock, /dig, /help",
		Long: `comment reads an issue_comment event (--event and --event-name, or the Actions
environment) and runs the command on the comment's first line, for the author
associations infra.hcl's comments block trusts (default OWNER, MEMBER,
COLLABORATOR). /plan plans and keeps the plans for /apply, holding a lock on each
layer for the pull request; /apply applies exactly those plans, for the head
commit, when the pull request is approved and its checks passed; /unlock
releases the locks. Anything else, and anyone else, is refused with the reason
(exit 0) and nothing runs. With --release, on a pull_request event (closed), the
pull request's locks are released. --dry-run prints the requests instead.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return a.comment(c, &gh, f, plansDir, release, workflowTrusted)
		},
	}
	gh.addFlags(c)
	f.add(c, false, false)
	c.Flags().StringSliceVar(&f.varFiles, "var-file", nil, "a .tfvars or .tfvars.json file passed to every layer by /plan (repeatable)")
	c.Flags().StringVar(&plansDir, "plans-dir", "", "where /plan keeps the plans for /apply (default: the state bucket of --backend-config, else .infra/plans in the source)")
	c.Flags().BoolVar(&release, "release", false, "release the locks of the pull request the (closed) event is about")
	c.Flags().StringVar(&workflowTrusted, "workflow-trusted", "", `the author associations the workflow's if: admits (a JSON list, or "default"); the run fails unless infra.hcl's comments.trusted names the same`)
	return c
}

func (a *app) comment(c *cobra.Command, gh *githubFlags, f *applyFlags, plansDir string, release bool, workflowTrusted string) error {
	ctx := c.Context()
	t, err := a.target(gh)
	if err != nil {
		return err
	}
	if t.Event == nil {
		return a.badInput("infra comment reads the comment's event: pass --event and --event-name (or run in Actions)")
	}
	o := usecase.CommentOptions{Event: t.Event, Repo: t.Repo, Release: release, DryRun: gh.DryRun, PlansDir: plansDir,
		Apply: usecase.ApplyOptions{Settings: a.settings(), Format: "markdown", LockTimeout: f.lockTimeout, Getenv: os.Getenv}}
	if c.Flags().Changed("workflow-trusted") {
		if o.WorkflowTrusted, err = usecase.WorkflowTrusted(workflowTrusted); err != nil {
			return a.fail(err)
		}
	}
	if f.backendConfig != "" {
		if o.Apply.BackendConfig, err = readSmall(f.backendConfig); err != nil {
			return a.badInput("--backend-config: %v", err)
		}
	}
	switch {
	case plansDir != "":
		o.PlansDir = plansDir
	case o.Apply.BackendConfig != nil || gh.DryRun:
		// Between runs the plans live in the state bucket (a dry run keeps
		// none); here, in scratch space.
		if !gh.DryRun {
			if o.PlanStore, err = usecase.PlanBucket(o.Apply.BackendConfig, os.Getenv, t.Repo); err != nil {
				return a.fail(err)
			}
		}
		if o.PlansDir, err = os.MkdirTemp("", "infra-plans-"); err != nil {
			return a.toolError(err)
		}
		defer os.RemoveAll(o.PlansDir)
	default:
		o.PlansDir = filepath.Join(a.source, ".infra", "plans")
	}
	for _, v := range f.varFiles {
		abs, err := filepath.Abs(v)
		if err != nil || !isFile(abs) {
			return a.badInput("--var-file %q is not a readable file", v)
		}
		o.Apply.VarFiles = append(o.Apply.VarFiles, abs)
	}
	abs, _ := filepath.Abs(a.source)
	o.Locks = usecase.LocksNextToState(repofs.Dir(a.source), abs, o.Apply.BackendConfig, os.Getenv)
	// The checkout's own HEAD: on a comment event GITHUB_SHA is the default
	// branch's, not the pull request's.
	if a.isGitRoot(ctx) {
		o.SourceCommit = a.sourceHead(ctx)
	}
	var pr usecase.PullRequest
	if !release {
		client, err := a.client(ctx, gh, t, a.stdout)
		if err != nil {
			return err
		}
		pr = prloop.CommentPR{Client: client, Target: t, Marker: usecase.CommentMarker}
	}
	stop := a.applyProgress(&o.Apply)
	defer stop()
	hooks := usecase.CommentHooks{
		Check: func(ctx context.Context, layers []string) error {
			return a.delegate(ctx, a.flashCommand(), gh, "--layer", strings.Join(layers, ","))
		},
		Dig: func(ctx context.Context) error { return a.delegate(ctx, a.digCommand(), gh) },
	}
	res, err := usecase.Comment(ctx, a.repo(), o, pr, host.Applier{Source: a.source, Mirror: f.mirror, Out: a.sink()}, hooks, a.sink())
	stop()
	var ex *exitError
	if errors.As(err, &ex) { // a delegated command's own exit
		return err
	}
	if err != nil {
		return a.fail(err)
	}
	if res.Refused != "" {
		fmt.Fprintf(a.stdout, "infra comment: refused: %s\n", res.Refused)
		return nil
	}
	if res.Report != nil {
		return exit(res.Report.ExitCode())
	}
	return nil
}

// delegate runs another command of this CLI (flash for /check, dig for /dig)
// with the comment's GitHub flags and the given ones.
func (a *app) delegate(ctx context.Context, cmd *cobra.Command, gh *githubFlags, args ...string) error {
	pass := map[string]string{"repo": gh.Repo, "api-url": gh.APIURL, "event": gh.EventPath, "event-name": gh.EventName, "run-url": gh.RunURL, "sha": gh.SHA}
	if gh.PR != 0 {
		pass["pr"] = fmt.Sprint(gh.PR)
	}
	if gh.DryRun {
		pass["dry-run"] = "true"
	}
	for name, v := range pass {
		if v != "" {
			if err := cmd.Flags().Set(name, v); err != nil {
				return a.badInput("%v", err)
			}
		}
	}
	for i := 0; i+1 < len(args); i += 2 {
		if err := cmd.Flags().Set(strings.TrimPrefix(args[i], "--"), args[i+1]); err != nil {
			return a.badInput("%v", err)
		}
	}
	cmd.SetContext(ctx)
	return cmd.RunE(cmd, nil)
}

// isGitRoot: the source is the top of its own git work tree (not a directory
// inside another repository, whose HEAD says nothing about it).
func (a *app) isGitRoot(ctx context.Context) bool {
	out, err := exec.CommandContext(ctx, "git", "-C", a.source, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return false
	}
	top, err1 := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	src, err2 := filepath.EvalSymlinks(a.source)
	if err1 != nil || err2 != nil {
		return false
	}
	abs, _ := filepath.Abs(src)
	return top == abs
}
