package prloop

import (
	"context"
	"strings"

	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/slash"
)

// CommentStatus is the commit status /plan and /apply record on the head
// ("infra-comment/plan", "infra-comment/apply"); the infra-flash comment's Plans
// section reads them, and /apply's checks gate leaves them out.
func CommentStatus(cmd slash.Name) string { return commentStatusPrefix + string(cmd) }

const commentStatusPrefix = "infra-comment/"

// CommentPR is the pull request a comment command is about, through the
// forge: its head, its approval, its head's checks and the live comment.
type CommentPR struct {
	Client *forge.Client
	Target Target
	Marker forge.Marker
}

// Head is --sha when given (a dry run without access knows no other), else
// the pull request's head as the forge says now.
func (p CommentPR) Head(ctx context.Context) (string, error) {
	if p.Target.SHA != "" {
		return p.Target.SHA, nil
	}
	pr, err := p.Client.PullRequest(ctx, p.Target.PR)
	if err != nil {
		return "", err
	}
	return pr.HeadSHA, nil
}

func (p CommentPR) Approval(ctx context.Context, head string, trusted []string) (bool, string, error) {
	return p.Client.Approval(ctx, p.Target.PR, head, trusted)
}

// ChecksPassed leaves out the comment flow's own statuses and checks.
func (p CommentPR) ChecksPassed(ctx context.Context, sha string) (bool, string, error) {
	return p.Client.ChecksPassed(ctx, sha, func(name string) bool { return strings.HasPrefix(name, commentStatusPrefix) })
}

func (p CommentPR) Live() forge.Commenter {
	return forge.Live(p.Client, p.Target.PR, p.Marker, forge.Stamp{SHA: p.Target.SHA})
}

func (p CommentPR) Association(ctx context.Context, login string) (string, error) {
	return p.Client.Association(ctx, login)
}

func (p CommentPR) Record(ctx context.Context, sha string, cmd slash.Name, state, description string) error {
	return p.Client.SetStatus(ctx, sha, forge.Check{Name: CommentStatus(cmd), State: state, Description: description, TargetURL: p.Target.RunURL})
}
