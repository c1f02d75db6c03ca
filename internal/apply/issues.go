package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/infra-flash/infra/internal/forge"
)

// IssueAction is what the drift issue of one layer should become.
type IssueAction struct {
	Layer  string
	Marker forge.Marker // "drift/2.platform": finds the layer's open issue
	Open   bool         // open (or update) the issue with Title and Body; false closes it
	Title  string
	Body   string
}

// issueLimit keeps an issue body well under GitHub's 65,536 characters.
const issueLimit = 60000

// DriftMarker names a layer's drift issue.
func DriftMarker(layer string) forge.Marker { return forge.Marker("drift/" + strings.ToLower(layer)) }

// DriftIssues decides, from a drift report, which issues to open or update (one
// per drifted layer) and which to close (layers found in sync). A layer whose
// check could not run leaves its issue as it is: an unknown answer neither opens
// nor closes anything.
func DriftIssues(rep *Report, runURL string) []IssueAction {
	var out []IssueAction
	for _, l := range rep.Layers {
		a := IssueAction{Layer: l.Layer.Dir, Marker: DriftMarker(l.Layer.Dir)}
		switch l.Status {
		case Drifted:
			a.Open = true
			a.Title = fmt.Sprintf("Drift in %s (%s)", l.Layer.Label(), l.Layer.Dir)
			var b strings.Builder
			fmt.Fprintf(&b, "**%s** no longer matches the code: %s.\n\n", l.Layer.Label(), l.Reason)
			if runURL != "" {
				fmt.Fprintf(&b, "Found by [this run](%s). ", runURL)
			}
			b.WriteString("Every drift check updates this issue; the first one that finds the layer in sync closes it.\n\n")
			one := &Report{Op: rep.Op, Engine: rep.Engine, Commit: rep.Commit, Layers: []LayerResult{l}}
			b.WriteString(Markdown(one, issueLimit-b.Len()))
			a.Body = b.String()
		case InSync:
		default:
			continue
		}
		out = append(out, a)
	}
	return out
}

// IssueTracker keeps one issue per marker; *forge.Client is one. Drift issues
// carry no label: labels are dropped silently for tokens without push access, and
// an issue searched by a label it lacks would be opened again on every run.
type IssueTracker interface {
	UpsertIssue(ctx context.Context, spec forge.IssueSpec) (forge.Issue, error)
	CloseIssue(ctx context.Context, m forge.Marker, labels []string, comment string) (forge.Issue, bool, error)
}

// SyncIssues carries the actions out and says what it did, one line each. It
// goes on after a failure, so one layer's issue does not hold up the others'.
func SyncIssues(ctx context.Context, t IssueTracker, actions []IssueAction, runURL string) ([]string, error) {
	var lines []string
	var firstErr error
	for _, a := range actions {
		if a.Open {
			is, err := t.UpsertIssue(ctx, forge.IssueSpec{Marker: a.Marker, Title: a.Title, Body: a.Body})
			if err != nil {
				firstErr = orFirst(firstErr, fmt.Errorf("drift issue of %s: %w", a.Layer, err))
				continue
			}
			lines = append(lines, fmt.Sprintf("drift issue of %s: %s #%d %s", a.Layer, is.Action, is.Number, is.URL))
			continue
		}
		comment := "The layer is in sync again."
		if runURL != "" {
			comment += " Checked by " + runURL + "."
		}
		is, closed, err := t.CloseIssue(ctx, a.Marker, nil, comment)
		if err != nil {
			firstErr = orFirst(firstErr, fmt.Errorf("drift issue of %s: %w", a.Layer, err))
			continue
		}
		if closed {
			lines = append(lines, fmt.Sprintf("drift issue of %s: closed #%d", a.Layer, is.Number))
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
