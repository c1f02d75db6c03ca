package forge

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
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

// Approval says whether a pull request is approved for its head commit: at
// least one reviewer's latest verdict is an approval given on head (a review's
// commit_id; an approval of an earlier commit does not cover what was pushed
// since) and none's is a request for changes, on whatever commit (a
// comment-only review changes no verdict; a dismissed one withdraws it).
// Only reviewers of a trusted association count, either way (anyone may
// review a public repository's pull request): the review's author_association,
// or where the forge sends none (Gitea, Forgejo) the reviewer's permission.
// reason says, in words for the PR, why not.
func (c *Client) Approval(ctx context.Context, number int, head string, trusted []string) (approved bool, reason string, err error) {
	if head == "" {
		return false, "", &InputError{Msg: "an approval is judged for a head commit, and none was given"}
	}
	if len(trusted) == 0 {
		return false, "", &InputError{Msg: "an approval is judged for trusted reviewers, and none were named"}
	}
	type verdict struct{ state, commit, association string }
	verdicts := map[string]verdict{}
	var order []string
	for page := 1; page > 0; {
		var list []apiReview
		resp, err := c.read(ctx, c.path("pulls/%d/reviews?per_page=100&page=%d", number, page), &list)
		if err != nil {
			return false, "", err
		}
		for _, rv := range list { // oldest first
			who := rv.User.Login
			state := strings.ToUpper(rv.State)
			if rv.Dismissed {
				state = "DISMISSED"
			}
			switch state {
			case "APPROVED", "CHANGES_REQUESTED", "DISMISSED", "REQUEST_CHANGES": // the last is Gitea's word
				if _, seen := verdicts[who]; !seen {
					order = append(order, who)
				}
				verdicts[who] = verdict{state, rv.CommitID, rv.AuthorAssociation}
			}
		}
		page = resp.NextPage
	}
	var approvers, stale, blockers, ignored []string
	for _, who := range order {
		v := verdicts[who]
		if v.association == "" {
			if v.association, err = c.Association(ctx, who); err != nil {
				return false, "", err
			}
		}
		if !slices.Contains(trusted, v.association) {
			if v.state == "APPROVED" {
				ignored = append(ignored, fmt.Sprintf("@%s (%s)", who, v.association))
			}
			continue
		}
		switch v.state {
		case "APPROVED":
			if v.commit == head {
				approvers = append(approvers, "@"+who)
			} else {
				stale = append(stale, fmt.Sprintf("@%s approved %s", who, short(v.commit)))
			}
		case "CHANGES_REQUESTED", "REQUEST_CHANGES":
			blockers = append(blockers, "@"+who)
		}
	}
	switch {
	case len(blockers) > 0:
		return false, "changes are requested by " + strings.Join(blockers, ", "), nil
	case len(approvers) == 0 && len(stale) > 0:
		return false, fmt.Sprintf("the pull request is not approved at its head %s: %s, before the last push; an approval of the head is needed", short(head), strings.Join(stale, ", ")), nil
	case len(approvers) == 0 && len(ignored) > 0:
		return false, fmt.Sprintf("the pull request is not approved by %s: the approval of %s does not count", strings.Join(trusted, ", "), strings.Join(ignored, ", ")), nil
	case len(approvers) == 0:
		return false, "the pull request is not approved", nil
	}
	return true, "approved by " + strings.Join(approvers, ", ") + " at " + short(head), nil
}

// apiReview is a pull request review as GitHub and Gitea list it: Gitea keeps
// a dismissed review's state and says "dismissed" beside it (go-github's type
// has no such field), and sends no author association.
type apiReview struct {
	User struct {
		Login string `json:"login"`
	} `json:"user"`
	State             string `json:"state"`
	CommitID          string `json:"commit_id"`
	AuthorAssociation string `json:"author_association"`
	Dismissed         bool   `json:"dismissed"`
}

// ChecksPassed says whether every check on a commit (check runs and commit
// statuses, the latest of each name) passed; those named in ignore (the
// comment flow's own) do not count. reason names the first that did not.
func (c *Client) ChecksPassed(ctx context.Context, sha string, ignore func(name string) bool) (passed bool, reason string, err error) {
	statuses, err := c.Statuses(ctx, sha)
	if err != nil {
		return false, "", err
	}
	runs, err := c.CheckRunResults(ctx, sha)
	if err != nil && StatusOf(err) != http.StatusNotFound { // Gitea has no check runs
		return false, "", err
	}
	var bad []string
	for _, set := range []map[string]Check{statuses, runs} {
		for name, ch := range set {
			if ignore != nil && ignore(name) {
				continue
			}
			switch ch.State {
			case "success", "neutral", "skipped":
			case "", "pending":
				bad = append(bad, name+" is still running")
			default:
				bad = append(bad, name+" is "+ch.State)
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return false, "checks on " + short(sha) + ": " + strings.Join(bad, "; "), nil
	}
	return true, "", nil
}

// Association stands in for the author association an event lacks (Gitea and
// Forgejo send none): the user's permission on the repository, as GitHub and
// Gitea both answer it, read as OWNER (admin), COLLABORATOR (write) or NONE.
func (c *Client) Association(ctx context.Context, login string) (string, error) {
	if login == "" {
		return "NONE", nil
	}
	var out struct {
		Permission string `json:"permission"`
	}
	if _, err := c.read(ctx, c.path("collaborators/%s/permission", login), &out); err != nil {
		if StatusOf(err) == http.StatusNotFound || StatusOf(err) == http.StatusForbidden {
			return "NONE", nil // not a collaborator
		}
		return "", err
	}
	switch out.Permission {
	case "admin", "owner":
		return "OWNER", nil
	case "write", "maintain":
		return "COLLABORATOR", nil
	}
	return "NONE", nil
}
