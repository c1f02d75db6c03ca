package prloop

import (
	"context"
	"strings"

	"github.com/infra-flash/infra/internal/forge"
)

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

func (p CommentPR) Approval(ctx context.Context, head string) (bool, string, error) {
	return p.Client.Approval(ctx, p.Target.PR, head)
}

// ChecksPassed leaves out the comment flow's own statuses and checks.
func (p CommentPR) ChecksPassed(ctx context.Context, sha string) (bool, string, error) {
	return p.Client.ChecksPassed(ctx, sha, func(name string) bool { return strings.HasPrefix(name, "infra-comment") })
}

func (p CommentPR) Live() forge.Commenter {
	return forge.Live(p.Client, p.Target.PR, p.Marker, forge.Stamp{SHA: p.Target.SHA})
}

func (p CommentPR) Association(ctx context.Context, login string) (string, error) {
	return p.Client.Association(ctx, login)
}
