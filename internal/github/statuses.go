package github

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
			if s := StatusOf(err); s != http.StatusForbidden && s != http.StatusNotFound {
				return kind, err
			}
			c.log("github: check runs are not allowed for these credentials; using commit statuses")
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
	conclusion := map[string]string{"success": "success", "failure": "failure", "error": "failure"}[ch.State]
	body := map[string]any{
		"name":     ch.Name,
		"head_sha": sha,
		"output": map[string]string{
			"title":   Clip(ch.Description, 255),
			"summary": cut(ch.Summary, checkSummaryLimit),
		},
	}
	if conclusion != "" {
		body["status"] = "completed"
		body["conclusion"] = conclusion
		body["completed_at"] = time.Now().UTC().Format(time.RFC3339)
	} else {
		body["status"] = "in_progress"
	}
	if ch.TargetURL != "" {
		body["details_url"] = ch.TargetURL
	}
	return c.write(ctx, http.MethodPost, c.path("check-runs"), body, nil)
}

func (c *Client) createStatus(ctx context.Context, sha string, ch Check) error {
	body := map[string]any{
		"state":       ch.State,
		"context":     ch.Name,
		"description": Clip(ch.Description, DescriptionLimit),
	}
	if ch.TargetURL != "" {
		body["target_url"] = ch.TargetURL
	}
	return c.write(ctx, http.MethodPost, c.path("statuses/%s", sha), body, nil)
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
	for page := 1; page > 0; {
		var list []*gh.RepoStatus
		resp, err := c.read(ctx, c.path("commits/%s/statuses?per_page=100&page=%d", sha, page), &list)
		if err != nil {
			return out, err
		}
		for _, s := range list { // newest first: keep the first per context
			if _, seen := out[s.GetContext()]; !seen {
				out[s.GetContext()] = Check{Name: s.GetContext(), State: s.GetState(), Description: s.GetDescription(), TargetURL: s.GetTargetURL()}
			}
		}
		page = resp.NextPage
	}
	return out, nil
}

// CheckRunResults returns the latest check run per name on a commit, as Checks
// with the run's conclusion for State ("" while it runs).
func (c *Client) CheckRunResults(ctx context.Context, sha string) (map[string]Check, error) {
	if !validSHA(sha) {
		return nil, &InputError{fmt.Sprintf("--sha %q is not a full commit SHA", sha)}
	}
	out := map[string]Check{}
	for page := 1; page > 0; {
		var list gh.ListCheckRunsResults
		resp, err := c.read(ctx, c.path("commits/%s/check-runs?per_page=100&page=%d", sha, page), &list)
		if err != nil {
			return out, err
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
