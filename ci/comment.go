package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
)

// Comment answers a pull-request comment command from the issue_comment
// --event: /check (flash), /plan, /apply, /unlock, /dig, /help, for the author
// associations infra.hcl trusts; anyone and anything else is refused with the
// reason and nothing runs. The plans travel from /plan to /apply in the state
// bucket (WithBackend), keyed by pull request and commit; PR locks sit next to
// each layer's state. With --release, on a pull_request (closed) event, the pull
// request's locks are released.
// +cache="never"
func (g *Github) Comment(
	ctx context.Context,
	// Release the locks of the pull request the (closed) event is about.
	// +optional
	release bool,
	// Base domain of the services, for /dig.
	// +optional
	domain string,
	// The pull request's head (default: asked of the forge when the command runs).
	// +optional
	sha string,
	// The author associations the workflow's if: admits: a JSON list (the
	// repository variable INFRA_COMMENT_ASSOCIATIONS) or "default"; the run
	// fails unless infra.hcl's comments.trusted names the same.
	// +optional
	workflowTrusted string,
) (string, error) {
	if g.Event == nil {
		return "", errors.New("comment reads the comment's event: pass github --event $GITHUB_EVENT_PATH --event-name $GITHUB_EVENT_NAME")
	}
	var log strings.Builder
	t, client, err := g.connect(ctx, &log, 0, sha)
	if err != nil {
		return "", err
	}
	m := g.Infra
	o, ex, err := m.applyOptions(ctx, apply.OpPlan, applyArgs{format: "markdown"})
	if err != nil {
		return "", err
	}
	co := usecase.CommentOptions{Apply: o, Event: t.Event, Repo: t.Repo, Release: release, DryRun: g.DryRun}
	if workflowTrusted != "" {
		if co.WorkflowTrusted, err = usecase.WorkflowTrusted(workflowTrusted); err != nil {
			return "", err
		}
	}
	if co.PlansDir, err = os.MkdirTemp("", "plans-"); err != nil {
		return "", err
	}
	defer os.RemoveAll(co.PlansDir)
	if o.BackendConfig != nil && !g.DryRun { // a dry run keeps no plans
		if co.PlanStore, err = usecase.PlanBucket(o.BackendConfig, nil, t.Repo); err != nil {
			return "", err
		}
	}
	src, err := exportDir(ctx, m.Source)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	ex.fsys = repofs.Dir(src)
	co.Locks = usecase.LocksNextToState(ex.fsys, src, o.BackendConfig, nil)
	co.SourceCommit = m.headCommit(ctx)
	hooks := usecase.CommentHooks{
		Check: func(ctx context.Context, layers []string) error {
			out, err := g.Flash(ctx, layers, "", "text", 0, sha, false, nil)
			log.WriteString(out)
			return err
		},
		Dig: func(ctx context.Context) error {
			if domain == "" {
				return errors.New("/dig needs the base domain: pass comment --domain")
			}
			out, err := g.Dig(ctx, domain, []string{"all"}, "10s", nil, nil, "text", 64, "services.hcl", 0, "")
			log.WriteString(out)
			return err
		},
	}
	res, err := usecase.Comment(ctx, m.repo(ctx, ex.fsys), co, prloop.CommentPR{Client: client, Target: t, Marker: usecase.CommentMarker}, ex, hooks, sink())
	if err != nil {
		return "", fmt.Errorf("%s%w", log.String(), err)
	}
	switch {
	case res.Refused != "":
		log.WriteString("refused: " + res.Refused + "\n")
	case len(res.Released) > 0:
		log.WriteString("released: " + strings.Join(res.Released, ", ") + "\n")
	}
	if res.Report != nil {
		text, err := (applyRun{&usecase.ApplyResult{Report: res.Report, Masker: res.Masker}}).render("text")
		if err != nil {
			return "", err
		}
		log.WriteString(text)
		if res.Report.ExitCode() != report.ExitOK {
			return "", fmt.Errorf("%s\n%s", log.String(), apply.Headline(res.Report))
		}
	}
	return log.String(), nil
}
