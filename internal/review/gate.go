// Package review is the gate in front of the AI review: from the event that
// started a job it decides whether the review runs, and says why. It is pure.
package review

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/atlantis"
)

// DefaultBot is the account Atlantis comments as (the infra-flash GitHub App).
const DefaultBot = "infra-flash[bot]"

// Trusted are the author associations whose requests start a review.
var Trusted = []string{"OWNER", "MEMBER", "COLLABORATOR"}

// Decision is the gate's answer.
type Decision struct {
	Run    bool
	Reason string
}

func no(format string, args ...any) Decision  { return Decision{false, fmt.Sprintf(format, args...)} }
func yes(format string, args ...any) Decision { return Decision{true, fmt.Sprintf(format, args...)} }

var (
	reviewCmd = regexp.MustCompile(`(?i)^/review\b`)
	mention   = regexp.MustCompile(`(?i)(^|[^\w@./-])@claude\b`)
	ptal      = regexp.MustCompile(`(?i)(^|\W)PTAL(\W|$)`)
)

// Decide runs the review for
//   - a new comment or review on a PR, from an OWNER, MEMBER or COLLABORATOR,
//     with a line starting "/review", a mention of @claude, or the word PTAL
//     (quoted lines do not count: quoting someone is not asking);
//   - a new comment by bot reporting that an Atlantis plan succeeded for every
//     project it ran.
//
// Everything else does not run, with the reason.
func Decide(ev *actions.Event, bot string) Decision {
	if bot == "" {
		bot = DefaultBot
	}
	if ev == nil {
		return no("no event")
	}
	switch ev.Name {
	case "issue_comment", "pull_request_review_comment":
		if ev.Action != "created" {
			return no("the comment was %s, not created", ev.Action)
		}
	case "pull_request_review":
		if ev.Action != "submitted" {
			return no("the review was %s, not submitted", ev.Action)
		}
	default:
		return no("a %s event does not ask for a review", ev.Name)
	}
	if ev.PR == 0 {
		return no("the comment is on an issue, not a pull request")
	}
	c := ev.Comment
	if c == nil {
		return no("the event carries no comment")
	}
	who := "@" + c.Author
	if strings.EqualFold(c.Author, bot) {
		if ev.Name != "issue_comment" {
			return no("%s reviews do not start a review", who)
		}
		res, ok := atlantis.Parse(c.Body)
		switch {
		case !ok:
			return no("the %s comment is not an Atlantis result", who)
		case res.Command != "plan":
			return no("the %s comment reports an Atlantis %s, not a plan", who, res.Command)
		case !res.Succeeded():
			return no("the Atlantis plan %s reported did not succeed for every project", who)
		}
		return yes("%s reported a successful Atlantis plan for %d project(s)", who, len(res.Projects))
	}
	if c.AuthorType == "Bot" {
		return no("comments from bots other than %s do not start a review", bot)
	}
	trigger := requested(c.Body)
	if trigger == "" {
		return no("the comment does not ask for a review (/review, @claude or PTAL)")
	}
	for _, t := range Trusted {
		if c.Association == t {
			return yes("%s (%s) asked with %s", who, t, trigger)
		}
	}
	assoc := c.Association
	if assoc == "" {
		assoc = "unknown"
	}
	return no("%s asked with %s but is %s; only %s can start a review", who, trigger, assoc, strings.Join(Trusted, ", "))
}

// requested returns the trigger a comment uses, ignoring quoted lines and code.
func requested(body string) string {
	fence := false
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
			continue
		}
		if fence || strings.HasPrefix(t, ">") {
			continue
		}
		t = inlineCode.ReplaceAllString(t, "")
		switch {
		case reviewCmd.MatchString(t):
			return "/review"
		case mention.MatchString(t):
			return "@claude"
		case ptal.MatchString(t):
			return "PTAL"
		}
	}
	return ""
}

var inlineCode = regexp.MustCompile("`[^`]*`")
