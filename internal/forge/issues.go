package forge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// apiIssue is an issue as GitHub and Gitea list it. go-github's Issue is not
// used: Gitea's "repository" carries its owner as a string, which it cannot
// decode, and only these fields are read.
type apiIssue struct {
	Number      int                    `json:"number"`
	Title       string                 `json:"title"`
	Body        string                 `json:"body"`
	HTMLURL     string                 `json:"html_url"`
	User        struct{ Login string } `json:"user"`
	PullRequest json.RawMessage        `json:"pull_request"`
}

func (is *apiIssue) isPR() bool { return len(is.PullRequest) > 0 && string(is.PullRequest) != "null" }

// findIssue returns our open issue carrying the marker, if any (pull requests,
// which the issues list includes, are skipped; so are issues others wrote).
func (c *Client) findIssue(ctx context.Context, m Marker, labels []string) (*apiIssue, error) {
	q := url.Values{"state": {"open"}, "per_page": {"100"}}
	if len(labels) > 0 {
		q.Set("labels", strings.Join(labels, ","))
	}
	var all []*apiIssue
	for page := 1; page > 0; {
		q.Set("page", fmt.Sprint(page))
		var list []*apiIssue
		resp, err := c.read(ctx, c.path("issues")+"?"+q.Encode(), &list)
		if err != nil {
			return nil, err
		}
		for _, is := range list {
			if !is.isPR() {
				all = append(all, is)
			}
		}
		page = resp.NextPage
	}
	own, err := ours(ctx, c, "issue(s)", all, func(is *apiIssue) (string, bool) {
		_, ok := m.Read(is.Body)
		return is.User.Login, ok
	})
	if err != nil || len(own) == 0 {
		return nil, err
	}
	return own[0], nil
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
	var out apiIssue
	if found == nil {
		req := map[string]any{"title": spec.Title, "body": body}
		if len(spec.Labels) > 0 {
			req["labels"] = spec.Labels
		}
		err := c.write(ctx, http.MethodPost, c.path("issues"), req, c.raw(http.MethodPost, c.path("issues"), req, &out))
		if err != nil && c.dry == nil && mayHaveLanded(err) {
			// Not posted again blindly: a second issue would be opened.
			if again, ferr := c.findIssue(ctx, spec.Marker, spec.Labels); ferr == nil && again != nil {
				c.log("forge: the issue was opened after all; not opening it again")
				out, err = *again, nil
			}
		}
		if err != nil {
			return Issue{}, err
		}
		return Issue{Number: out.Number, Title: spec.Title, URL: out.HTMLURL, Action: Created}, nil
	}
	res := Issue{Number: found.Number, Title: spec.Title, URL: found.HTMLURL, Action: Unchanged}
	if found.Title == spec.Title && found.Body == body {
		return res, nil
	}
	edit := map[string]any{"title": spec.Title, "body": body}
	if err := c.write(ctx, http.MethodPatch, c.path("issues/%d", found.Number), edit, c.raw(http.MethodPatch, c.path("issues/%d", found.Number), edit, &out)); err != nil {
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
		if _, err := c.CreateComment(ctx, found.Number, cut(comment, commentBudget)); err != nil {
			return Issue{}, false, err
		}
	}
	req := map[string]any{"state": "closed", "state_reason": "completed"}
	if err := c.write(ctx, http.MethodPatch, c.path("issues/%d", found.Number), req, c.raw(http.MethodPatch, c.path("issues/%d", found.Number), req, nil)); err != nil {
		return Issue{}, false, err
	}
	return Issue{Number: found.Number, Title: found.Title, URL: found.HTMLURL, Action: "closed"}, true, nil
}
