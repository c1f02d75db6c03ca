package apply

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// IssueAction is what the drift issue of one layer should become.
type IssueAction struct {
	Layer  string
	Marker string // an HTML comment in the body identifying the layer's issue
	Open   bool   // open (or update) the issue with Title and Body; false closes it
	Title  string
	Body   string
}

// IssueMarker identifies a layer's drift issue among a repository's issues.
func IssueMarker(layer string) string { return "<!-- infra-drift: " + layer + " -->" }

// issueLimit keeps an issue body under GitHub's 65,536 characters.
const issueLimit = 60000

// DriftIssues decides, from a drift report, which issues to open or update (one
// per drifted layer) and which to close (layers found in sync). Layers whose check
// could not run leave their issue as it is: an unknown answer neither opens nor
// closes anything.
func DriftIssues(rep *Report, runURL string) []IssueAction {
	var out []IssueAction
	for _, l := range rep.Layers {
		a := IssueAction{Layer: l.Layer.Dir, Marker: IssueMarker(l.Layer.Dir)}
		switch l.Status {
		case Drifted:
			a.Open = true
			a.Title = fmt.Sprintf("Drift in %s (%s)", l.Layer.Label(), l.Layer.Dir)
			one := &Report{Op: rep.Op, Engine: rep.Engine, Commit: rep.Commit, Layers: []LayerResult{l}}
			var b strings.Builder
			b.WriteString(a.Marker + "\n")
			fmt.Fprintf(&b, "**%s** no longer matches `main`: %s.\n\n", l.Layer.Label(), l.Reason)
			if runURL != "" {
				fmt.Fprintf(&b, "Found by [this run](%s). ", runURL)
			}
			b.WriteString("This issue is updated by every drift check and closed by the first one that finds the layer in sync.\n\n")
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

// IssueTracker keeps one issue per marker: Upsert opens it (or reopens and edits
// the open one), Close closes it with a comment when it is open.
type IssueTracker interface {
	Upsert(ctx context.Context, marker, title, body string) (url string, err error)
	Close(ctx context.Context, marker, comment string) (closed bool, err error)
}

// SyncIssues carries the actions out and says what it did, one line each.
func SyncIssues(ctx context.Context, t IssueTracker, actions []IssueAction, runURL string) ([]string, error) {
	var lines []string
	for _, a := range actions {
		if a.Open {
			url, err := t.Upsert(ctx, a.Marker, a.Title, a.Body)
			if err != nil {
				return lines, fmt.Errorf("drift issue of %s: %w", a.Layer, err)
			}
			lines = append(lines, fmt.Sprintf("drift issue of %s: open %s", a.Layer, url))
			continue
		}
		comment := "The layer is in sync again."
		if runURL != "" {
			comment += " Checked by " + runURL + "."
		}
		closed, err := t.Close(ctx, a.Marker, comment)
		if err != nil {
			return lines, fmt.Errorf("drift issue of %s: %w", a.Layer, err)
		}
		if closed {
			lines = append(lines, fmt.Sprintf("drift issue of %s: closed", a.Layer))
		}
	}
	return lines, nil
}

// PrintTracker is an IssueTracker that only says what it would do.
type PrintTracker struct{ W io.Writer }

func (p PrintTracker) Upsert(_ context.Context, marker, title, body string) (string, error) {
	fmt.Fprintf(p.W, "would open or update the issue marked %s\ntitle: %s\n%s\n", marker, title, body)
	return "(dry run)", nil
}

func (p PrintTracker) Close(_ context.Context, marker, comment string) (bool, error) {
	fmt.Fprintf(p.W, "would close the issue marked %s, if open, commenting: %s\n", marker, comment)
	return false, nil
}
