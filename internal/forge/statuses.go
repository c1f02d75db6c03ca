package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
)

// DescriptionLimit is GitHub's limit on a commit status description.
const DescriptionLimit = 140

// checkSummaryLimit is GitHub's limit on a check run's summary, with a margin.
const checkSummaryLimit = 65535 - 1024

// Check is one named result on a commit: a check run where the credentials allow
// them, a commit status otherwise.
type Check struct {
	Name        string // "infra-flash/2.platform"
	State       string // success, failure, error or pending
	Description string // one line; cut to 140 characters for a commit status
	TargetURL   string // the run
	Summary     string // markdown for the check run's page (not shown for statuses)
}

// Clip cuts text to n characters, marking the cut with an ellipsis.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// SetChecks records results on a commit. It tries check runs first; when GitHub
// refuses them (403/404: a personal token, or an App without the checks
// permission) it uses commit statuses from then on. It returns which it used.
func (c *Client) SetChecks(ctx context.Context, sha string, checks []Check) (string, error) {
	if !validSHA(sha) {
		return "", &InputError{fmt.Sprintf("--sha %q is not a full commit SHA", sha)}
	}
	kind := "check runs"
	for _, ch := range checks {
		c.mu.Lock()
		denied := c.checksDenied
		c.mu.Unlock()
		if !denied {
			err := c.createCheckRun(ctx, sha, ch)
			if err == nil {
				continue
			}
			s := StatusOf(err)
			if s != http.StatusForbidden && s != http.StatusNotFound {
				return kind, err
			}
			if s == http.StatusNotFound {
				// Gitea and Forgejo have no Checks API; an App without the
				// checks permission gets 403.
				c.log("forge: this API has no check runs (404: Gitea, Forgejo or an old GitHub Enterprise Server); using commit statuses")
			} else {
				c.log("forge: check runs are not allowed for these credentials (403); using commit statuses")
			}
			c.mu.Lock()
			c.checksDenied = true
			c.mu.Unlock()
		}
		kind = "commit statuses"
		if err := c.createStatus(ctx, sha, ch); err != nil {
			return kind, err
		}
	}
	return kind, nil
}

func (c *Client) createCheckRun(ctx context.Context, sha string, ch Check) error {
	opts := gh.CreateCheckRunOptions{
		Name:    ch.Name,
		HeadSHA: sha,
		Output:  &gh.CheckRunOutput{Title: gh.String(Clip(ch.Description, 255)), Summary: gh.String(cut(ch.Summary, checkSummaryLimit))},
		Status:  gh.String("in_progress"),
	}
	if conclusion := map[string]string{"success": "success", "failure": "failure", "error": "failure"}[ch.State]; conclusion != "" {
		opts.Status, opts.Conclusion = gh.String("completed"), gh.String(conclusion)
		opts.CompletedAt = &gh.Timestamp{Time: time.Now().UTC().Truncate(time.Second)}
	}
	if ch.TargetURL != "" {
		opts.DetailsURL = gh.String(ch.TargetURL)
	}
	// Sent again after a server error: a second run of the same name only
	// replaces the first on the PR.
	return c.write(safe(ctx), http.MethodPost, c.path("check-runs"), opts, func(ctx context.Context) (*gh.Response, error) {
		_, resp, err := c.gh.Checks.CreateCheckRun(ctx, c.Owner, c.Repo, opts)
		return resp, err
	})
}

func (c *Client) createStatus(ctx context.Context, sha string, ch Check) error {
	st := &gh.RepoStatus{State: gh.String(ch.State), Context: gh.String(ch.Name), Description: gh.String(Clip(ch.Description, DescriptionLimit))}
	if ch.TargetURL != "" {
		st.TargetURL = gh.String(ch.TargetURL)
	}
	// The latest status per context wins: sending it twice changes nothing.
	return c.write(safe(ctx), http.MethodPost, c.path("statuses/%s", sha), st, func(ctx context.Context) (*gh.Response, error) {
		_, resp, err := c.gh.Repositories.CreateStatus(ctx, c.Owner, c.Repo, sha, st)
		return resp, err
	})
}

// SetStatus sets one commit status (statuses only: used as a per-commit record).
func (c *Client) SetStatus(ctx context.Context, sha string, ch Check) error {
	if !validSHA(sha) {
		return &InputError{fmt.Sprintf("--sha %q is not a full commit SHA", sha)}
	}
	return c.createStatus(ctx, sha, ch)
}

// Statuses returns the latest commit status per context on a commit.
func (c *Client) Statuses(ctx context.Context, sha string) (map[string]Check, error) {
	if !validSHA(sha) {
		return nil, &InputError{fmt.Sprintf("--sha %q is not a full commit SHA", sha)}
	}
	out := map[string]Check{}
	latest := map[string]apiStatus{}
	for page := 1; page > 0; {
		var list []apiStatus
		resp, err := c.read(ctx, c.path("commits/%s/statuses?per_page=100&page=%d", sha, page), &list)
		if err != nil {
			return out, err
		}
		for _, s := range list {
			if prev, seen := latest[s.Context]; !seen || s.newer(prev) {
				latest[s.Context] = s
			}
		}
		page = resp.NextPage
	}
	for name, s := range latest {
		out[name] = Check{Name: name, State: s.state(), Description: s.Description, TargetURL: s.TargetURL}
	}
	return out, nil
}

// apiStatus is a commit status as GitHub and Gitea list it: Gitea names the
// state "status" (go-github's RepoStatus would read it as empty), and its
// order is not GitHub's newest-first, so the newest is picked by date and ID.
type apiStatus struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Status      string    `json:"status"`
	Context     string    `json:"context"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Created     time.Time `json:"created_at"`
}

func (s apiStatus) state() string {
	if s.State != "" {
		return s.State
	}
	return s.Status
}

func (s apiStatus) newer(than apiStatus) bool {
	if !s.Created.Equal(than.Created) {
		return s.Created.After(than.Created)
	}
	return s.ID > than.ID
}

// CheckRunResults returns the latest check run per name on a commit, as Checks
// with the run's conclusion for State ("" while it runs).
func (c *Client) CheckRunResults(ctx context.Context, sha string) (map[string]Check, error) {
	if !validSHA(sha) {
		return nil, &InputError{fmt.Sprintf("--sha %q is not a full commit SHA", sha)}
	}
	out := map[string]Check{}
	for page := 1; page > 0; {
		list, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, c.Owner, c.Repo, sha,
			&gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
		if err != nil {
			return out, c.got(c.path("commits/%s/check-runs", sha), err)
		}
		for _, r := range list.CheckRuns { // newest first: keep the first per name
			if _, seen := out[r.GetName()]; !seen {
				out[r.GetName()] = Check{Name: r.GetName(), State: r.GetConclusion(), TargetURL: r.GetDetailsURL()}
			}
		}
		page = resp.NextPage
	}
	return out, nil
}

func validSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// ValidSHA reports whether s is a full lower-case hex commit SHA.
func ValidSHA(s string) bool { return validSHA(s) }
