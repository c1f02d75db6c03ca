// Package actions is the GitHub Actions runtime seen from the pipeline: the event
// that started the job, the environment the runner sets, the job summary,
// annotations and step outputs, all through github.com/sethvargo/go-githubactions.
// Every value read here is untrusted input and validated; every value written is
// escaped so that it cannot become a workflow command or a second output.
package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Event is what the pipeline needs from an Actions event payload.
type Event struct {
	Name   string // pull_request, issue_comment, push, …
	Action string // opened, synchronize, created, …
	Repo   string // owner/name
	Sender string

	PR      int    // the pull request the event is about; 0 when none
	HeadSHA string // PR head, or the pushed commit
	HeadRef string // PR head branch, or the pushed branch
	BaseRef string // PR base branch

	Comment *Comment // issue_comment, pull_request_review_comment, pull_request_review
	Commit  *Commit  // push: the head commit
}

// Comment is the comment (or review) an event carries.
type Comment struct {
	ID          int64
	Body        string
	Author      string
	AuthorType  string // "User", "Bot", "Organization"
	Association string // OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …
	Created     time.Time
}

// Commit is a pushed commit.
type Commit struct {
	SHA     string
	Subject string
	Time    time.Time
}

// EventError is an event that cannot be read (exit code 2).
type EventError struct{ Msg string }

func (e *EventError) Error() string { return e.Msg }

func eventErrorf(format string, args ...any) error { return &EventError{fmt.Sprintf(format, args...)} }

// jsonProblem says what is wrong with a payload in JSON's words: the decoder's
// own message for a type mismatch names Go types, which mean nothing to a user.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	want := "a value of another type"
	switch te.Type.Kind() {
	case reflect.Struct, reflect.Map:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "an array"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Pointer:
		return jsonProblem(&json.UnmarshalTypeError{Value: te.Value, Type: te.Type.Elem(), Field: te.Field})
	}
	where := "the payload"
	if te.Field != "" {
		where = fmt.Sprintf("field %q", te.Field)
	}
	return fmt.Sprintf("%s is %s where %s is expected", where, jsonWord(te.Value), want)
}

func jsonWord(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	case "string", "number", "bool":
		return "a " + strings.Replace(v, "bool", "boolean", 1)
	}
	return v
}

// MaxEventSize bounds what is read: GitHub caps webhook payloads at 25 MB.
const MaxEventSize = 25 << 20

var (
	eventName = regexp.MustCompile(`^[a-z][a-z_]{0,60}$`)
	repoName  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	hexSHA    = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	gitRef    = regexp.MustCompile(`^[^\x00-\x1f\x7f ~^:?*\[\\]{1,255}$`)
)

// ReadEvent reads an event payload file.
func ReadEvent(name, path string) (*Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, eventErrorf("reading the event: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxEventSize+1))
	if err != nil {
		return nil, eventErrorf("reading the event: %v", err)
	}
	return ParseEvent(name, data)
}

// ParseEvent reads an event payload as the runner writes it to GITHUB_EVENT_PATH.
func ParseEvent(name string, payload []byte) (*Event, error) {
	if !eventName.MatchString(name) {
		return nil, eventErrorf("event name %q is not a GitHub event name", name)
	}
	if len(payload) > MaxEventSize {
		return nil, eventErrorf("the %s event is larger than %d bytes", name, MaxEventSize)
	}
	// The fields every event shares, read loosely: the repository object differs
	// between events (a push's carries its organization as a string).
	var common struct {
		Action     string `json:"action"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Sender struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(payload, &common); err != nil {
		return nil, eventErrorf("the %s event is not a JSON object: %s", name, jsonProblem(err))
	}
	ev := &Event{Name: name, Action: common.Action, Repo: common.Repository.FullName, Sender: common.Sender.Login}

	switch name {
	case "pull_request", "pull_request_target":
		var p gh.PullRequestEvent
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, eventErrorf("reading the %s event: %s", name, jsonProblem(err))
		}
		ev.setPR(p.GetPullRequest())
		if ev.PR == 0 {
			ev.PR = p.GetNumber()
		}
	case "issue_comment":
		// The issue is read loosely: Gitea's carries its repository's owner
		// as a string, which go-github's Issue cannot decode.
		var p struct {
			Issue *struct {
				Number      int             `json:"number"`
				PullRequest json.RawMessage `json:"pull_request"`
			} `json:"issue"`
			Comment *gh.IssueComment `json:"comment"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, eventErrorf("reading the %s event: %s", name, jsonProblem(err))
		}
		if is := p.Issue; is != nil && len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
			ev.PR = is.Number
		}
		if c := p.Comment; c != nil {
			ev.Comment = fromComment(c.GetID(), c.GetBody(), c.GetUser(), c.GetAuthorAssociation(), c.GetCreatedAt().Time)
		}
	case "pull_request_review_comment":
		var p gh.PullRequestReviewCommentEvent
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, eventErrorf("reading the %s event: %s", name, jsonProblem(err))
		}
		ev.setPR(p.GetPullRequest())
		if c := p.GetComment(); c != nil {
			ev.Comment = fromComment(c.GetID(), c.GetBody(), c.GetUser(), c.GetAuthorAssociation(), c.GetCreatedAt().Time)
		}
	case "pull_request_review":
		var p gh.PullRequestReviewEvent
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, eventErrorf("reading the %s event: %s", name, jsonProblem(err))
		}
		ev.setPR(p.GetPullRequest())
		if r := p.GetReview(); r != nil {
			ev.Comment = fromComment(r.GetID(), r.GetBody(), r.GetUser(), r.GetAuthorAssociation(), r.GetSubmittedAt().Time)
		}
	case "push":
		var p gh.PushEvent
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, eventErrorf("reading the %s event: %s", name, jsonProblem(err))
		}
		if p.GetDeleted() {
			break // a deleted branch or tag: no commit to speak of
		}
		ev.HeadSHA = p.GetAfter()
		ev.HeadRef = strings.TrimPrefix(p.GetRef(), "refs/heads/")
		if hc := p.GetHeadCommit(); hc != nil {
			subject, _, _ := strings.Cut(hc.GetMessage(), "\n")
			ev.Commit = &Commit{SHA: hc.GetID(), Subject: strings.TrimSpace(subject), Time: hc.GetTimestamp().Time}
		}
	}
	return ev, ev.validate()
}

func (ev *Event) setPR(p *gh.PullRequest) {
	ev.PR = p.GetNumber()
	ev.HeadSHA = p.GetHead().GetSHA()
	ev.HeadRef = p.GetHead().GetRef()
	ev.BaseRef = p.GetBase().GetRef()
}

func fromComment(id int64, body string, u *gh.User, assoc string, at time.Time) *Comment {
	return &Comment{ID: id, Body: body, Author: u.GetLogin(), AuthorType: u.GetType(), Association: assoc, Created: at}
}

// validate rejects values no real payload carries, so that nothing odd travels
// further into API paths, comments or outputs.
func (ev *Event) validate() error {
	if ev.Repo != "" && !repoName.MatchString(ev.Repo) {
		return eventErrorf("the event's repository %q is not OWNER/NAME", ev.Repo)
	}
	if ev.PR < 0 {
		return eventErrorf("the event's pull request number %d is not positive", ev.PR)
	}
	if ev.HeadSHA != "" && !hexSHA.MatchString(ev.HeadSHA) {
		return eventErrorf("the event's commit %q is not a full SHA", ev.HeadSHA)
	}
	for _, ref := range []string{ev.HeadRef, ev.BaseRef} {
		if ref != "" && !gitRef.MatchString(ref) {
			return eventErrorf("the event's branch %q is not a valid ref", ref)
		}
	}
	if ev.Commit != nil && ev.Commit.SHA != "" && !hexSHA.MatchString(ev.Commit.SHA) {
		return eventErrorf("the event's head commit %q is not a full SHA", ev.Commit.SHA)
	}
	return nil
}
