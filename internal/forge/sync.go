package forge

import (
	"context"
	"fmt"
)

// IssueAction is what one issue the project keeps should become (a layer's
// drift issue: see apply.DriftIssues, which renders them).
type IssueAction struct {
	Key    string // names the issue in the log: "drift issue of 2.platform"
	Marker Marker // "drift/2.platform": finds our open issue
	Open   bool   // open (or update) the issue with Title and Body; false closes it
	Title  string
	Body   string
}

// IssueTracker keeps one issue per marker; *Client is one. Drift issues
// carry no label: labels are dropped silently for tokens without push access, and
// an issue searched by a label it lacks would be opened again on every run.
type IssueTracker interface {
	UpsertIssue(ctx context.Context, spec IssueSpec) (Issue, error)
	CloseIssue(ctx context.Context, m Marker, labels []string, comment string) (Issue, bool, error)
}

// SyncIssues carries the actions out and says what it did, one line each. It
// goes on after a failure, so one issue does not hold up the others.
func SyncIssues(ctx context.Context, t IssueTracker, actions []IssueAction, runURL string) ([]string, error) {
	var lines []string
	var firstErr error
	for _, a := range actions {
		if a.Open {
			is, err := t.UpsertIssue(ctx, IssueSpec{Marker: a.Marker, Title: a.Title, Body: a.Body})
			if err != nil {
				firstErr = orFirst(firstErr, fmt.Errorf("%s: %w", a.Key, err))
				continue
			}
			lines = append(lines, fmt.Sprintf("%s: %s #%d %s", a.Key, is.Action, is.Number, is.URL))
			continue
		}
		comment := "The layer is in sync again."
		if runURL != "" {
			comment += " Checked by " + runURL + "."
		}
		is, closed, err := t.CloseIssue(ctx, a.Marker, nil, comment)
		if err != nil {
			firstErr = orFirst(firstErr, fmt.Errorf("%s: %w", a.Key, err))
			continue
		}
		if closed {
			lines = append(lines, fmt.Sprintf("%s: closed #%d", a.Key, is.Number))
		}
	}
	return lines, firstErr
}

func orFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
