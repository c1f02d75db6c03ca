package dig

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/review"
)

// Placeholder is posted as soon as /dig is seen, then replaced by the results.
const Placeholder = "## Service Health Check ⏳\n\nTesting connectivity…\n"

// Marker marks the /dig answers; each /dig gets a comment of its own.
const Marker forge.Marker = "dig"

// CommentFlow is forge.CommentFlow with dig's placeholder and failure text.
func CommentFlow(ctx context.Context, c forge.Commenter, check func(context.Context) (string, error)) error {
	return forge.CommentFlow(ctx, c, Placeholder, func(err error) string {
		return "## Service Health Check ⚠️ could not run\n\n" + cell(err.Error()) + "\n"
	}, check)
}

// Command is the /dig command. A comment is the command when its whole body
// is "/dig", in any letter case, and nothing else: exactly what dig.yml's
// `if:` can say (GitHub compares strings without case and cannot trim), so a
// runner starts for every comment the CLI answers and for no other.
const Command = "/dig"

// IsCommand reports whether a comment body is the /dig command.
func IsCommand(body string) bool { return strings.EqualFold(body, Command) }

// CommandExamples pin the definition down; the tests of IsCommand and of
// dig.yml's condition both run them.
var CommandExamples = map[string]bool{
	"/dig":                true,
	"/DIG":                true,
	"/Dig":                true,
	"/dig now":            false,
	"/dig\r\nplease":      false,
	"/dig\n":              false,
	" /dig":               false,
	"/digest":             false,
	"please /dig":         false,
	"> /dig":              false,
	"":                    false,
	"`/dig`":              false,
	"lgtm\n/dig":          false,
	"/dig\u200b":          false,
	"atlantis plan\n/dig": false,
}

// Decide says whether an event is a /dig to answer: a new comment on a pull
// request whose first line is /dig, from someone with write access (the same
// associations that may start a review). Anything else is skipped, with the reason.
func Decide(ev *actions.Event) (run bool, reason string) {
	switch {
	case ev == nil:
		return false, "no event"
	case ev.Name != "issue_comment":
		return false, fmt.Sprintf("a %s event is not a comment", ev.Name)
	case ev.Action != "created":
		return false, fmt.Sprintf("the comment was %s, not created", ev.Action)
	case ev.Comment == nil:
		return false, "the event carries no comment"
	case !IsCommand(ev.Comment.Body):
		return false, "the comment is not /dig"
	case ev.PR == 0:
		return false, "the comment is on an issue, not a pull request"
	}
	who := "@" + ev.Comment.Author
	if !slices.Contains(review.Trusted, ev.Comment.Association) {
		assoc := ev.Comment.Association
		if assoc == "" {
			assoc = "unknown"
		}
		return false, fmt.Sprintf("%s is %s; /dig runs for %s", who, assoc, strings.Join(review.Trusted, ", "))
	}
	return true, fmt.Sprintf("/dig by %s (%s) on #%d", who, ev.Comment.Association, ev.PR)
}

// Skip is why a run on event ev must neither probe nor post: a comment event that
// is not a trusted /dig. "" means answer (no event, or another event with an
// explicit pull request).
func Skip(ev *actions.Event) string {
	if ev == nil || ev.Name != "issue_comment" {
		return ""
	}
	if ok, reason := Decide(ev); !ok {
		return reason
	}
	return ""
}

// OnPR is the /dig flow as the CLI and the Dagger module run it (after Skip): the
// placeholder goes up, run probes, and the comment becomes the markdown report
// (the base domain masked unless showDomain), linking the run.
func OnPR(ctx context.Context, c forge.Commenter, showDomain bool, runURL string, run func(context.Context) *Report) (*Report, error) {
	var rep *Report
	err := CommentFlow(ctx, c, func(ctx context.Context) (string, error) {
		rep = run(ctx)
		rep.RunURL = runURL
		var b strings.Builder
		if err := Render(&b, rep, "markdown", !showDomain); err != nil {
			return "", err
		}
		return b.String(), nil
	})
	return rep, err
}
