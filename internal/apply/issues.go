package apply

import (
	"fmt"
	"strings"

	"github.com/infra-flash/infra/internal/forge"
)

// issueLimit keeps an issue body well under GitHub's 65,536 characters.
const issueLimit = 60000

// DriftMarker names a layer's drift issue.
func DriftMarker(layer string) forge.Marker { return forge.Marker("drift/" + strings.ToLower(layer)) }

// DriftIssues decides, from a drift report, which issues to open or update (one
// per drifted layer) and which to close (layers found in sync). A layer whose
// check could not run leaves its issue as it is: an unknown answer neither opens
// nor closes anything. forge.SyncIssues carries them out.
func DriftIssues(rep *Report, runURL string) []forge.IssueAction {
	var out []forge.IssueAction
	for _, l := range rep.Layers {
		a := forge.IssueAction{Key: "drift issue of " + l.Layer.Dir, Marker: DriftMarker(l.Layer.Dir)}
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
