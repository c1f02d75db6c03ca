package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
)

// CommentLimit is GitHub's limit on a comment or issue body, in characters.
const CommentLimit = 65536

// commentBudget leaves a margin under the limit; bodies are measured in bytes,
// which are never fewer than characters.
const commentBudget = CommentLimit - 1024

// Comment is an issue or PR comment.
type Comment struct {
	ID          int64
	Body        string
	Author      string // login
	AuthorType  string // "User", "Bot", …
	Association string // OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …
	Created     time.Time
	URL         string
}

// Body renders text that fits in limit bytes; callers that can shorten their
// text well (cut findings before the matrix) do it themselves.
type Body func(limit int) string

// Fit wraps fixed text as a Body, cutting it at a line end when it is too long.
func Fit(text string) Body {
	return func(limit int) string { return cut(text, limit) }
}

const cutNote = "\n\n> ✂️ Cut to fit GitHub's comment size limit.\n"

func cut(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	n := max(limit-len(cutNote), 0)
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	if i := strings.LastIndexByte(text[:n], '\n'); i > n/2 {
		n = i
	}
	return text[:n] + cutNote
}

// ListComments returns every comment of an issue or PR, oldest first, reading
// all pages (100 a page).
func (c *Client) ListComments(ctx context.Context, issue int) ([]Comment, error) {
	var out []Comment
	for page := 1; page > 0; {
		list, resp, err := c.gh.Issues.ListComments(ctx, c.Owner, c.Repo, issue,
			&gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
		if err != nil {
			return out, c.got(c.path("issues/%d/comments", issue), err)
		}
		for _, ic := range list {
			out = append(out, fromIssueComment(ic))
		}
		page = resp.NextPage
	}
	sort.SliceStable(out, func(i, j int) bool { return older(out[i], out[j]) })
	return out, nil
}

func older(a, b Comment) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.ID < b.ID
}

func fromIssueComment(ic *gh.IssueComment) Comment {
	return Comment{
		ID: ic.GetID(), Body: ic.GetBody(), Author: ic.GetUser().GetLogin(), AuthorType: ic.GetUser().GetType(),
		Association: ic.GetAuthorAssociation(), Created: ic.GetCreatedAt().Time, URL: ic.GetHTMLURL(),
	}
}

// CreateComment posts a comment. In a dry run the returned comment has a
// negative ID that EditComment understands. A POST is not sent twice blindly:
// after a server error or a dropped connection the comments are read again,
// and the comment is posted again only if ours is not there.
func (c *Client) CreateComment(ctx context.Context, issue int, body string) (Comment, error) {
	for try := 1; ; try++ {
		var ic *gh.IssueComment
		err := c.write(ctx, http.MethodPost, c.path("issues/%d/comments", issue), &gh.IssueComment{Body: &body},
			func(ctx context.Context) (resp *gh.Response, err error) {
				ic, resp, err = c.gh.Issues.CreateComment(ctx, c.Owner, c.Repo, issue, &gh.IssueComment{Body: &body})
				return resp, err
			})
		if err == nil {
			if c.dry != nil {
				c.mu.Lock()
				c.dryIDs--
				id := c.dryIDs
				c.mu.Unlock()
				return Comment{ID: id, Body: body}, nil
			}
			return fromIssueComment(ic), nil
		}
		if c.dry != nil || !mayHaveLanded(err) || try >= 3 {
			return Comment{}, err
		}
		landed, ok := c.landedComment(ctx, issue, body)
		if !ok {
			return Comment{}, err // cannot tell: better an error than a duplicate
		}
		if landed != nil {
			c.log("forge: the comment was created after all; not posting it again")
			return *landed, nil
		}
		c.log("forge: the comment is not there; posting it again")
	}
}

// mayHaveLanded: the server may have carried out a write that failed.
func mayHaveLanded(err error) bool {
	s := StatusOf(err)
	var e *APIError
	return errors.As(err, &e) && (s == 0 || s >= 500)
}

// landedComment looks for our newest comment with exactly this body; ok is
// false when that cannot be told.
func (c *Client) landedComment(ctx context.Context, issue int, body string) (*Comment, bool) {
	self, err := c.Self(ctx)
	if err != nil {
		return nil, false
	}
	list, err := c.ListComments(ctx, issue)
	if err != nil {
		return nil, false
	}
	for i := len(list) - 1; i >= 0; i-- {
		if Mine(self, list[i].Author) && strings.TrimSpace(list[i].Body) == strings.TrimSpace(body) {
			return &list[i], true
		}
	}
	return nil, true
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, id int64, body string) (Comment, error) {
	var ic *gh.IssueComment
	path := c.path("issues/comments/%d", id)
	if id < 0 { // a comment the dry run only pretended to create
		path = c.path("issues/comments/{id of the comment created above}")
	}
	err := c.write(ctx, http.MethodPatch, path, &gh.IssueComment{Body: &body}, func(ctx context.Context) (resp *gh.Response, err error) {
		ic, resp, err = c.gh.Issues.EditComment(ctx, c.Owner, c.Repo, id, &gh.IssueComment{Body: &body})
		return resp, err
	})
	if err != nil {
		return Comment{}, err
	}
	if c.dry != nil {
		return Comment{ID: id, Body: body}, nil
	}
	return fromIssueComment(ic), nil
}

// DeleteComment deletes a comment. One already gone (a retried DELETE whose
// first try landed) is deleted.
func (c *Client) DeleteComment(ctx context.Context, id int64) error {
	err := c.write(ctx, http.MethodDelete, c.path("issues/comments/%d", id), nil, func(ctx context.Context) (*gh.Response, error) {
		return c.gh.Issues.DeleteComment(ctx, c.Owner, c.Repo, id)
	})
	var e *APIError
	if errors.As(err, &e) && e.Status == http.StatusNotFound && e.Attempts > 1 {
		return nil
	}
	return err
}

// Action is what an upsert did.
type Action string

const (
	Created   Action = "created"
	Edited    Action = "edited"
	Unchanged Action = "unchanged" // the comment already says exactly this
	Kept      Action = "kept"      // the comment is about a newer commit
)

// UpsertResult says what happened to the marked comment.
type UpsertResult struct {
	Action  Action
	Comment Comment
	Deleted []int64 // duplicates removed (from runs that raced)
	Reason  string  // for Kept: which newer commit the comment shows
}

// Upsert keeps exactly one comment with the marker on an issue or PR: created on
// the first run, edited in place afterwards, never overwritten by a run for an
// older commit (see Decide; head returns the PR's current head commit and is only
// called when dates cannot decide). Duplicates left by racing runs are reduced to
// the oldest after a successful write. comments is the issue's comment list if
// the caller already read it (nil: Upsert reads it), so a steady-state update
// costs one paginated list and one edit. A body GitHub finds too long (422) is
// rendered again at half the size, twice at most.
func (c *Client) Upsert(ctx context.Context, issue int, comments []Comment, m Marker, stamp Stamp, body Body, head func(context.Context) (string, error)) (UpsertResult, error) {
	if err := m.check(); err != nil {
		return UpsertResult{}, err
	}
	if comments == nil {
		var err error
		if comments, err = c.ListComments(ctx, issue); err != nil && !IsDryRead(err) {
			return UpsertResult{}, err
		}
	}
	own, err := ours(ctx, c, "comment(s)", comments, func(cm Comment) (string, bool) {
		_, ok := m.Read(cm.Body)
		return cm.Author, ok
	})
	if err != nil {
		return UpsertResult{}, err
	}
	var marked []Comment
	newest := Stamp{}
	for _, cm := range own {
		s, _ := m.Read(cm.Body)
		marked = append(marked, cm)
		if newest.SHA == "" || s.Time.After(newest.Time) {
			newest = s
		}
	}
	sort.SliceStable(marked, func(i, j int) bool { return older(marked[i], marked[j]) })

	if len(marked) > 0 {
		verdict := Decide(stamp, newest)
		if verdict == AskHead {
			verdict = Keep
			if head != nil {
				h, err := head(ctx)
				if err != nil && !IsDryRead(err) {
					return UpsertResult{}, err
				}
				if h == stamp.SHA {
					verdict = Write
				}
			}
		}
		if verdict == Keep {
			// Duplicates stay: the run for the newer commit cleans up.
			return UpsertResult{Action: Kept, Comment: marked[0],
				Reason: fmt.Sprintf("the comment shows commit %s, newer than %s", short(newest.SHA), short(stamp.SHA))}, nil
		}
	}

	line := m.Line(stamp) + "\n"
	var res UpsertResult
	limit := commentBudget - len(line)
	for try := 0; ; try++ {
		text := line + cut(body(limit), limit)
		var err error
		switch {
		case len(marked) > 0 && marked[0].Body == text:
			res = UpsertResult{Action: Unchanged, Comment: marked[0]}
		case len(marked) > 0:
			res.Action = Edited
			res.Comment, err = c.EditComment(ctx, marked[0].ID, text)
		default:
			res.Action = Created
			res.Comment, err = c.CreateComment(ctx, issue, text)
		}
		if err == nil {
			break
		}
		if StatusOf(err) == http.StatusUnprocessableEntity && try < 2 && strings.Contains(strings.ToLower(err.Error()), "too long") {
			limit /= 2
			c.log(fmt.Sprintf("forge: the comment was too long for GitHub; rendering it again within %d bytes", limit))
			continue
		}
		return UpsertResult{}, err
	}
	for _, d := range marked[min(1, len(marked)):] {
		if err := c.DeleteComment(ctx, d.ID); err != nil {
			return res, fmt.Errorf("removing a duplicate comment: %w", err)
		}
		res.Deleted = append(res.Deleted, d.ID)
	}
	return res, nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	if sha == "" {
		return "(unknown)"
	}
	return sha
}

// Pending is a comment posted before its content is known ("Testing
// connectivity…"), to be edited with the results.
type Pending struct {
	c       *Client
	marker  Marker
	stamp   Stamp
	Comment Comment
}

// Placeholder posts a new marked comment at once. It never edits an older one:
// each request (a /dig command) gets its own answer.
func (c *Client) Placeholder(ctx context.Context, issue int, m Marker, stamp Stamp, text string) (*Pending, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	line := m.Line(stamp) + "\n"
	cm, err := c.CreateComment(ctx, issue, line+cut(text, commentBudget-len(line)))
	if err != nil {
		return nil, err
	}
	return &Pending{c: c, marker: m, stamp: stamp, Comment: cm}, nil
}

// Update replaces the placeholder's text, keeping its marker; a body GitHub
// finds too long is rendered again at half the size.
func (p *Pending) Update(ctx context.Context, body Body) error {
	line := p.marker.Line(p.stamp) + "\n"
	limit := commentBudget - len(line)
	for try := 0; ; try++ {
		cm, err := p.c.EditComment(ctx, p.Comment.ID, line+cut(body(limit), limit))
		if err == nil {
			p.Comment = cm
			return nil
		}
		if StatusOf(err) != http.StatusUnprocessableEntity || try >= 2 {
			return err
		}
		limit /= 2
	}
}
