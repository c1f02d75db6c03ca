package dig

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Commenter is what the /dig flow needs from GitHub: create a comment on a pull
// request (an issue, to GitHub's API) and edit it. The GitHub client and its
// dry-run notifier both satisfy it, so the flow runs the same with either.
type Commenter interface {
	CreateComment(ctx context.Context, number int, body string) (id int64, err error)
	EditComment(ctx context.Context, id int64, body string) error
}

// Placeholder is posted as soon as /dig is seen, then replaced by the results.
const Placeholder = "## Service Health Check ⏳\n\nTesting connectivity…\n"

// CommentFlow posts the placeholder at once, runs the check and edits that same
// comment with what check returns. Everything that can be validated must be
// before calling it: if check fails anyway, the comment says so rather than
// staying "Testing connectivity…" forever.
func CommentFlow(ctx context.Context, c Commenter, number int, check func(context.Context) (string, error)) (int64, error) {
	id, err := c.CreateComment(ctx, number, Placeholder)
	if err != nil {
		return 0, fmt.Errorf("posting the placeholder comment: %w", err)
	}
	body, checkErr := check(ctx)
	if checkErr != nil {
		body = "## Service Health Check ⚠️ could not run\n\n" + cell(checkErr.Error()) + "\n"
	}
	// The edit must land even when the run was cancelled meanwhile.
	if err := c.EditComment(context.WithoutCancel(ctx), id, body); err != nil {
		return id, fmt.Errorf("editing comment %d with the results: %w", id, err)
	}
	return id, checkErr
}

// TrustedAssociations may trigger /dig: people with write access to the repository.
var TrustedAssociations = []string{"OWNER", "MEMBER", "COLLABORATOR"}

// Trigger is the decision on a comment event.
type Trigger struct {
	Run    bool   // a trusted /dig on a pull request
	Number int    // the pull request
	Author string // the comment's author
	Reason string // why it runs or not, for the log
}

type commentEvent struct {
	Action string `json:"action"`
	Issue  *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Comment *struct {
		ID                int64  `json:"id"`
		Body              string `json:"body"`
		AuthorAssociation string `json:"author_association"`
		User              *struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comment"`
}

// IsCommand reports whether a comment body is the /dig command: its first
// non-empty line is exactly /dig.
func IsCommand(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line == "/dig"
		}
	}
	return false
}

// CommentTrigger decides whether an Actions event is a /dig to act on. Events that
// are not (another event, another comment, an untrusted author) come back with Run
// false and the reason; an unreadable payload is an error (bad input).
func CommentTrigger(eventName string, payload []byte) (Trigger, error) {
	if eventName != "issue_comment" {
		return Trigger{Reason: fmt.Sprintf("event %q is not a comment (issue_comment)", eventName)}, nil
	}
	var ev commentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Trigger{}, inputErrorf("reading the issue_comment event: %v", err)
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Issue.Number <= 0 {
		return Trigger{}, inputErrorf("the issue_comment event has no issue number or comment")
	}
	t := Trigger{Number: ev.Issue.Number}
	if ev.Comment.User != nil {
		t.Author = ev.Comment.User.Login
	}
	switch {
	case ev.Action != "created":
		t.Reason = fmt.Sprintf("comment %s, not created", ev.Action)
	case !IsCommand(ev.Comment.Body):
		t.Reason = "the comment is not /dig"
	case len(ev.Issue.PullRequest) == 0 || string(ev.Issue.PullRequest) == "null":
		t.Reason = fmt.Sprintf("#%d is an issue, not a pull request", t.Number)
	case !slices.Contains(TrustedAssociations, ev.Comment.AuthorAssociation):
		t.Reason = fmt.Sprintf("%s is %s on this repository; /dig runs for %s", t.Author, strings.ToLower(ev.Comment.AuthorAssociation), strings.Join(TrustedAssociations, ", "))
	default:
		t.Run = true
		t.Reason = fmt.Sprintf("/dig by %s (%s) on #%d", t.Author, ev.Comment.AuthorAssociation, t.Number)
	}
	return t, nil
}
