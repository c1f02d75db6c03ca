package githubtest_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/githubtest"
)

func client(t *testing.T, g *githubtest.GitHub, token string) *gh.Client {
	c := gh.NewClient(g.Client()).WithAuthToken(token)
	c.BaseURL, _ = url.Parse("http://fake.invalid/")
	return c
}

// The fake answers the operations it knows from the description's examples and
// keeps state; its own answers pass the description's response schemas (a
// violation fails the test at cleanup).
func TestFakeAnswersFromTheDescription(t *testing.T) {
	g := githubtest.New(t)
	g.Repo("o/r")
	g.PR("o/r", 7, strings.Repeat("a", 40), "feature")
	g.Commit("o/r", strings.Repeat("a", 40), "subject\n\nbody", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	g.Token("t", githubtest.User{Login: "someone", Association: "MEMBER"})
	c := client(t, g, "t")
	ctx := context.Background()

	for i := 0; i < 35; i++ {
		_, _, err := c.Issues.CreateComment(ctx, "o", "r", 7, &gh.IssueComment{Body: gh.String("hello")})
		require.NoError(t, err)
	}
	list, resp, err := c.Issues.ListComments(ctx, "o", "r", 7, nil)
	require.NoError(t, err)
	assert.Len(t, list, 30)
	assert.Equal(t, 2, resp.NextPage)
	list, resp, err = c.Issues.ListComments(ctx, "o", "r", 7, &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{Page: 2}})
	require.NoError(t, err)
	assert.Len(t, list, 5)
	assert.Equal(t, 0, resp.NextPage)
	assert.Equal(t, "someone", list[0].GetUser().GetLogin())

	_, _, err = c.Issues.EditComment(ctx, "o", "r", list[0].GetID(), &gh.IssueComment{Body: gh.String(strings.Repeat("x", githubtest.MaxCommentLength+1))})
	var er *gh.ErrorResponse
	require.ErrorAs(t, err, &er)
	assert.Equal(t, 422, er.Response.StatusCode)
	assert.Contains(t, er.Errors[0].Message, "too long")

	pr, _, err := c.PullRequests.Get(ctx, "o", "r", 7)
	require.NoError(t, err)
	assert.Equal(t, "feature", pr.GetHead().GetRef())
	cm, _, err := c.Repositories.GetCommit(ctx, "o", "r", strings.Repeat("a", 40), nil)
	require.NoError(t, err)
	assert.Equal(t, "subject\n\nbody", cm.GetCommit().GetMessage())

	_, _, err = c.Repositories.CreateStatus(ctx, "o", "r", strings.Repeat("a", 40), &gh.RepoStatus{State: gh.String("success"), Context: gh.String("x/y"), Description: gh.String("ok")})
	require.NoError(t, err)
	_, _, err = c.Checks.CreateCheckRun(ctx, "o", "r", gh.CreateCheckRunOptions{Name: "x", HeadSHA: strings.Repeat("a", 40), Conclusion: gh.String("success"), Status: gh.String("completed")})
	require.NoError(t, err)
	is, _, err := c.Issues.Create(ctx, "o", "r", &gh.IssueRequest{Title: gh.String("drift"), Body: gh.String("b"), Labels: &[]string{"drift"}})
	require.NoError(t, err)
	issues, _, err := c.Issues.ListByRepo(ctx, "o", "r", &gh.IssueListByRepoOptions{Labels: []string{"drift"}})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	assert.Equal(t, is.GetNumber(), issues[0].GetNumber())
	_, err = c.Issues.DeleteComment(ctx, "o", "r", list[0].GetID())
	require.NoError(t, err)
	assert.Len(t, g.Comments("o/r", 7), 34)
}

// A request the description does not allow is a violation (and GitHub's 422).
func TestFakeRejectsRequestsOutsideTheDescription(t *testing.T) {
	g := githubtest.New(t)
	g.Repo("o/r")
	g.PR("o/r", 1, strings.Repeat("b", 40), "x")
	g.Token("t", githubtest.User{Login: "someone"})
	c := client(t, g, "t")
	ctx := context.Background()

	req, err := c.NewRequest("POST", "repos/o/r/issues/1/comments", map[string]any{"body": "x", "bodyy": "typo"})
	require.NoError(t, err)
	_, err = c.Do(ctx, req, nil)
	require.Error(t, err)
	req, err = c.NewRequest("POST", "repos/o/r/statuses/abc", map[string]any{"state": "green"})
	require.NoError(t, err)
	_, err = c.Do(ctx, req, nil)
	require.Error(t, err)
	req, err = c.NewRequest("GET", "repos/o/r/no-such-endpoint", nil)
	require.NoError(t, err)
	_, err = c.Do(ctx, req, nil)
	require.Error(t, err)

	v := g.TakeViolations()
	require.Len(t, v, 3)
	assert.Contains(t, v[0], "bodyy")
	assert.Contains(t, v[1], "green")
	assert.Contains(t, v[2], "no such operation")
	assert.Empty(t, g.Comments("o/r", 1))
}
