package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// IssueSpec is an issue the project keeps, one per marker ("drift/2.platform").
type IssueSpec struct {
	Marker Marker
	Title  string
	Body   string
	Labels []string // set on creation; also narrow the search for the open issue
}

// Issue is an issue as the upsert saw or left it.
type Issue struct {
	Number int
	Title  string
	URL    string
	Action Action // Created, Edited or Unchanged; "closed" after CloseIssue
}

// findIssue returns the open issue carrying the marker, if any (pull requests,
// which the issues list includes, are skipped).
func (c *Client) findIssue(ctx context.Context, m Marker, labels []string) (*gh.Issue, error) {
	q := url.Values{"state": {"open"}, "per_page": {"100"}}
	if len(labels) > 0 {
		q.Set("labels", strings.Join(labels, ","))
	}
	for page := 1; page > 0; {
		q.Set("page", fmt.Sprint(page))
		var list []*gh.Issue
		resp, err := c.read(ctx, c.path("issues")+"?"+q.Encode(), &list)
		if err != nil {
			return nil, err
		}
		for _, is := range list {
			if is.IsPullRequest() {
				continue
			}
			if _, ok := m.Read(is.GetBody()); ok {
				return is, nil
			}
		}
		page = resp.NextPage
	}
	return nil, nil
}

// UpsertIssue opens the issue for spec.Marker, or updates the open one's title
// and body. Closed issues stay closed: a new problem opens a new issue.
func (c *Client) UpsertIssue(ctx context.Context, spec IssueSpec) (Issue, error) {
	if err := spec.Marker.check(); err != nil {
		return Issue{}, err
	}
	body := spec.Marker.Line(Stamp{}) + "\n" + cut(spec.Body, commentBudget)
	found, err := c.findIssue(ctx, spec.Marker, spec.Labels)
	if err != nil && !IsDryRead(err) {
		return Issue{}, err
	}
	var out gh.Issue
	if found == nil {
		req := map[string]any{"title": spec.Title, "body": body}
		if len(spec.Labels) > 0 {
			req["labels"] = spec.Labels
		}
		if err := c.write(ctx, http.MethodPost, c.path("issues"), req, &out); err != nil {
			return Issue{}, err
		}
		return Issue{Number: out.GetNumber(), Title: spec.Title, URL: out.GetHTMLURL(), Action: Created}, nil
	}
	res := Issue{Number: found.GetNumber(), Title: spec.Title, URL: found.GetHTMLURL(), Action: Unchanged}
	if found.GetTitle() == spec.Title && found.GetBody() == body {
		return res, nil
	}
	if err := c.write(ctx, http.MethodPatch, c.path("issues/%d", found.GetNumber()), map[string]any{"title": spec.Title, "body": body}, &out); err != nil {
		return Issue{}, err
	}
	res.Action = Edited
	return res, nil
}

// CloseIssue closes the open issue for the marker, first commenting why (when
// comment is not empty). ok is false when no such issue is open.
func (c *Client) CloseIssue(ctx context.Context, m Marker, labels []string, comment string) (Issue, bool, error) {
	if err := m.check(); err != nil {
		return Issue{}, false, err
	}
	found, err := c.findIssue(ctx, m, labels)
	if err != nil && !IsDryRead(err) {
		return Issue{}, false, err
	}
	if found == nil {
		return Issue{}, false, nil
	}
	if comment != "" {
		if _, err := c.CreateComment(ctx, found.GetNumber(), cut(comment, commentBudget)); err != nil {
			return Issue{}, false, err
		}
	}
	req := map[string]any{"state": "closed", "state_reason": "completed"}
	if err := c.write(ctx, http.MethodPatch, c.path("issues/%d", found.GetNumber()), req, nil); err != nil {
		return Issue{}, false, err
	}
	return Issue{Number: found.GetNumber(), Title: found.GetTitle(), URL: found.GetHTMLURL(), Action: "closed"}, true, nil
}
