package forge_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/giteatest"
)

// giteaClient is the bot's client on a real Gitea, logging into a buffer.
func giteaClient(t *testing.T, g *giteatest.Gitea, repo string) (*forge.Client, *bytes.Buffer) {
	t.Helper()
	var mu sync.Mutex
	log := &bytes.Buffer{}
	c, err := forge.New(context.Background(), repo, forge.Options{APIURL: g.API, Token: g.Bot.Token,
		Log: func(s string) { mu.Lock(); defer mu.Unlock(); log.WriteString(s + "\n") }})
	require.NoError(t, err)
	return c, log
}

// The PR loop's whole conversation with a real Gitea, the bot and an outsider
// taking part: comments, commit statuses (Gitea has no check runs), commits
// and drift issues.
func TestAgainstGitea(t *testing.T) {
	g := giteatest.Start(t)
	repo := g.Repo(t, "infra")
	pr := g.OpenPR(t, repo, "feature/x", "main.tf", "# a change\n")
	ctx := context.Background()

	t.Run("only our own comments are edited or deleted", func(t *testing.T) {
		c, log := giteaClient(t, g, repo)
		self, err := c.Self(ctx)
		require.NoError(t, err)
		assert.Equal(t, g.Bot.Login, self)
		before := g.Comment(t, g.Outsider, repo, pr.Number, forged)
		stamp := forge.Stamp{SHA: pr.HeadSHA, Time: time.Now().UTC().Truncate(time.Second)}
		first, err := c.Upsert(ctx, pr.Number, nil, "pr", stamp, forge.Fit("first"), nil)
		require.NoError(t, err)
		assert.Equal(t, forge.Created, first.Action)
		after := g.Comment(t, g.Outsider, repo, pr.Number, forged)
		second, err := c.Upsert(ctx, pr.Number, nil, "pr", stamp, forge.Fit("second"), nil)
		require.NoError(t, err)
		assert.Equal(t, forge.Edited, second.Action)
		assert.Equal(t, first.Comment.ID, second.Comment.ID)
		assert.Empty(t, second.Deleted)

		p, err := c.Placeholder(ctx, pr.Number, "dig", forge.Stamp{}, "⏳")
		require.NoError(t, err)
		require.NoError(t, p.Update(ctx, forge.Fit("done")))

		comments := g.Comments(t, repo, pr.Number)
		require.Len(t, comments, 4)
		for _, cm := range comments {
			switch cm.ID {
			case before, after:
				assert.Equal(t, forged, cm.Body)
				assert.Equal(t, g.Outsider.Login, cm.User.Login)
			case first.Comment.ID:
				assert.True(t, strings.HasSuffix(cm.Body, "\nsecond"))
			default:
				assert.True(t, strings.HasSuffix(cm.Body, "\ndone"))
			}
		}
		assert.Equal(t, 1, strings.Count(log.String(), "left alone"), log.String())
	})

	t.Run("commit statuses stand in for check runs", func(t *testing.T) {
		c, log := giteaClient(t, g, repo)
		kind, err := c.SetChecks(ctx, pr.HeadSHA, []forge.Check{{Name: "infra-flash/2.platform", State: "success", Description: "ok"}})
		require.NoError(t, err)
		assert.Equal(t, "commit statuses", kind)
		assert.Contains(t, log.String(), "this API has no check runs (404")
		assert.NotContains(t, log.String(), "credentials")
		got, err := c.Statuses(ctx, pr.HeadSHA)
		require.NoError(t, err)
		assert.Equal(t, "success", got["infra-flash/2.platform"].State, "Gitea's \"status\" key is read")
		require.NoError(t, c.SetStatus(ctx, pr.HeadSHA, forge.Check{Name: "infra-flash/2.platform", State: "failure", Description: "later"}))
		got, err = c.Statuses(ctx, pr.HeadSHA)
		require.NoError(t, err)
		assert.Equal(t, "failure", got["infra-flash/2.platform"].State, "the newest status per context")
	})

	t.Run("a commit is read where Gitea keeps it", func(t *testing.T) {
		c, _ := giteaClient(t, g, repo)
		cm, err := c.Commit(ctx, pr.HeadSHA)
		require.NoError(t, err)
		assert.Equal(t, "feat: main.tf", cm.Subject)
		assert.False(t, cm.Time.IsZero())
	})

	t.Run("drift issues: ours opened, updated and closed; a forged one left alone", func(t *testing.T) {
		c, log := giteaClient(t, g, repo)
		var forgedIssue giteatest.Issue
		g.Do(t, g.Outsider, "POST", "repos/"+repo+"/issues", map[string]any{"title": "Drift (forged)",
			"body": "<!-- infra-flash:drift/2.platform {} -->\nclose me"}, &forgedIssue)
		spec := forge.IssueSpec{Marker: "drift/2.platform", Title: "Drift in L2", Body: "3 drifted"}
		is, err := c.UpsertIssue(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, forge.Created, is.Action)
		spec.Body = "4 drifted"
		again, err := c.UpsertIssue(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, forge.Edited, again.Action)
		assert.Equal(t, is.Number, again.Number)
		closed, ok, err := c.CloseIssue(ctx, "drift/2.platform", nil, "in sync")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, is.Number, closed.Number)
		for _, x := range g.Issues(t, repo) {
			switch x.Number {
			case forgedIssue.Number:
				assert.Equal(t, "open", x.State)
				assert.Equal(t, "Drift (forged)", x.Title)
			case is.Number:
				assert.Equal(t, "closed", x.State)
			}
		}
		assert.Contains(t, log.String(), "left alone 1 issue(s)")
	})
}
