package forge

import (
	"context"
	"fmt"
)

// Commenter is all a live comment needs: put a comment up at once and replace
// its text later. Live adapts the client (whose dry run prints the requests
// instead); tests plug in their own.
type Commenter interface {
	Post(ctx context.Context, body string) (Posted, error)
}

// Posted is a comment Post put up.
type Posted interface {
	Edit(ctx context.Context, body string) error
}

// CommentFlow posts placeholder at once, runs check and edits that same
// comment with what check returns. Everything that can be validated must be
// before calling it: if check fails anyway, the comment becomes failed(err)
// rather than staying a placeholder forever, and the error is returned.
func CommentFlow(ctx context.Context, c Commenter, placeholder string, failed func(error) string, check func(context.Context) (string, error)) error {
	posted, err := c.Post(ctx, placeholder)
	if err != nil {
		return fmt.Errorf("posting the placeholder comment: %w", err)
	}
	body, checkErr := check(ctx)
	if checkErr != nil {
		body = failed(checkErr)
	}
	// The edit must land even when the run was cancelled meanwhile.
	if err := posted.Edit(context.WithoutCancel(ctx), body); err != nil {
		return fmt.Errorf("editing the placeholder comment with the results: %w", err)
	}
	return checkErr
}

// Live posts on pull request pr through the client: each Post is a new comment
// carrying the marker (see Placeholder), edited in place afterwards.
func Live(c *Client, pr int, m Marker, stamp Stamp) Commenter {
	return liveCommenter{c, pr, m, stamp}
}

type liveCommenter struct {
	c      *Client
	pr     int
	marker Marker
	stamp  Stamp
}

func (l liveCommenter) Post(ctx context.Context, body string) (Posted, error) {
	p, err := l.c.Placeholder(ctx, l.pr, l.marker, l.stamp, body)
	if err != nil {
		return nil, err
	}
	return livePosted{p}, nil
}

type livePosted struct{ p *Pending }

func (l livePosted) Edit(ctx context.Context, body string) error { return l.p.Update(ctx, Fit(body)) }
