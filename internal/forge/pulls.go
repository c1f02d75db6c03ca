package forge

import (
	"context"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// PullRequest is what the PR loop needs to know about a PR.
type PullRequest struct {
	Number           int
	HeadSHA, HeadRef string
	BaseRef          string
	Title            string
}

// PullRequest reads a PR.
func (c *Client) PullRequest(ctx context.Context, number int) (PullRequest, error) {
	pr, _, err := c.gh.PullRequests.Get(ctx, c.Owner, c.Repo, number)
	if err != nil {
		return PullRequest{}, c.got(c.path("pulls/%d", number), err)
	}
	return PullRequest{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), HeadRef: pr.GetHead().GetRef(),
		BaseRef: pr.GetBase().GetRef(), Title: pr.GetTitle()}, nil
}

// Commit is a commit's subject and committer date.
type Commit struct {
	SHA     string
	Subject string
	Time    time.Time
}

// Commit reads a commit: GitHub's GET commits/{sha}, else Gitea's and
// Forgejo's git/commits/{sha} (the first is a 404 there), which answers in
// the same shape.
func (c *Client) Commit(ctx context.Context, sha string) (Commit, error) {
	rc, _, err := c.gh.Repositories.GetCommit(ctx, c.Owner, c.Repo, sha, nil)
	if err != nil {
		if StatusOf(wrap(http.MethodGet, "", err)) == http.StatusNotFound {
			// go-github's Git.GetCommit expects GitHub's git-database shape;
			// Gitea answers this path in the shape above.
			rc = &gh.RepositoryCommit{}
			_, err = c.read(ctx, c.path("git/commits/%s", sha), rc)
		} else {
			err = c.got(c.path("commits/%s", sha), err)
		}
	}
	if err != nil {
		return Commit{SHA: sha}, err
	}
	subject, _, _ := strings.Cut(rc.GetCommit().GetMessage(), "\n")
	return Commit{SHA: rc.GetSHA(), Subject: strings.TrimSpace(subject), Time: rc.GetCommit().GetCommitter().GetDate().Time}, nil
}
