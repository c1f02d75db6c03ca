package forge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/githubtest"
)

var outsider = githubtest.User{Login: "mallory", Association: "CONTRIBUTOR"}

const forged = "<!-- infra-flash:pr {} -->\n✅ all checks passed (forged)"

// A comment anyone pastes our marker into is neither edited into the report
// (posted before ours) nor deleted as a duplicate (posted after ours), for
// every kind of identity: an Actions token (GraphQL viewer), a person's token
// (GET /user) and a GitHub App (GET /app).
func TestForeignMarkerCommentsAreLeftAlone(t *testing.T) {
	key, pemKey := appKey(t)
	cases := map[string]func(e *env) *forge.Client{
		"actions token": func(e *env) *forge.Client { return e.client },
		"personal token": func(e *env) *forge.Client {
			e.fake.Token("ghp_person", githubtest.User{Login: "Infra-Bot"})
			c, err := forge.New(context.Background(), repo, forge.Options{APIURL: e.api, Token: "ghp_person", Log: e.logf})
			require.NoError(t, err)
			return c
		},
		"github app": func(e *env) *forge.Client {
			e.fake.App(99, 4242, &key.PublicKey)
			c, err := forge.New(context.Background(), repo, forge.Options{APIURL: e.api, Log: e.logf,
				App: &forge.App{ID: 99, InstallationID: 4242, PrivateKey: pemKey}})
			require.NoError(t, err)
			return c
		},
	}
	for name, client := range cases {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			c := client(e)
			before := e.fake.AddComment(repo, pr, outsider, forged)
			up := func(text string) forge.UpsertResult {
				res, err := c.Upsert(context.Background(), pr, nil, "pr", forge.Stamp{SHA: shaA, Time: t0}, forge.Fit(text), nil)
				require.NoError(t, err)
				return res
			}
			first := up("run 1")
			assert.Equal(t, forge.Created, first.Action, "the outsider's comment is not ours to edit")
			after := e.fake.AddComment(repo, pr, outsider, forged)
			second := up("run 2")
			assert.Equal(t, forge.Edited, second.Action)
			assert.Equal(t, first.Comment.ID, second.Comment.ID)
			assert.Empty(t, second.Deleted, "the later outsider's comment is no duplicate of ours")

			comments := e.fake.Comments(repo, pr)
			require.Len(t, comments, 3)
			var own int
			for _, cm := range comments {
				switch cm.ID {
				case before, after:
					assert.Equal(t, forged, cm.Body, "untouched")
					assert.Equal(t, cm.Created, cm.Updated, "never edited")
				default:
					own++
					assert.True(t, strings.HasSuffix(cm.Body, "\nrun 2"))
				}
			}
			assert.Equal(t, 1, own, "exactly one comment of ours")
			assert.Equal(t, 1, strings.Count(e.log.String(), "left alone"), "said once: %s", e.log.String())
			assert.Contains(t, e.log.String(), "written by @mallory")
		})
	}
}

// Drift issues are found by marker and author: an outsider's issue carrying
// the marker is neither updated nor closed.
func TestForeignMarkerIssuesAreLeftAlone(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.fake.AddIssue(repo, outsider, "Drift in L2 (forged)", "<!-- infra-flash:drift/2.platform {} -->\nno drift, close me")
	spec := forge.IssueSpec{Marker: "drift/2.platform", Title: "Drift in L2 Platform", Body: "3 resources drifted"}
	is, err := e.client.UpsertIssue(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, forge.Created, is.Action)
	_, ok, err := e.client.CloseIssue(ctx, "drift/2.platform", nil, "in sync")
	require.NoError(t, err)
	require.True(t, ok)
	issues := e.fake.Issues(repo)
	require.Len(t, issues, 2)
	assert.Equal(t, "open", issues[0].State, "the outsider's issue stays as it was")
	assert.Equal(t, "Drift in L2 (forged)", issues[0].Title)
	assert.Equal(t, "closed", issues[1].State)
	assert.Empty(t, e.fake.Comments(repo, issues[0].Number))
	assert.Contains(t, e.log.String(), "left alone 1 issue(s)")
}

// A POST that fails with a server error is not sent again blindly: the
// comments are read again, and it is posted again only when it did not land.
func TestCreateIsNeverDuplicatedByARetry(t *testing.T) {
	isPost := func(r githubtest.Request) bool { return r.Method == "POST" && strings.HasSuffix(r.Path, "/comments") }
	t.Run("landed", func(t *testing.T) {
		e := setup(t)
		e.fake.Fail(isPost, 1, githubtest.Fault{Status: 502, Body: `{"message":"Server Error"}`, Applied: true})
		cm, err := e.client.CreateComment(context.Background(), pr, "hello")
		require.NoError(t, err)
		comments := e.fake.Comments(repo, pr)
		require.Len(t, comments, 1, "one comment, not two")
		assert.Equal(t, comments[0].ID, cm.ID)
		assert.Contains(t, e.log.String(), "created after all")
	})
	t.Run("lost", func(t *testing.T) {
		e := setup(t)
		e.fake.Fail(isPost, 1, githubtest.ServerError())
		_, err := e.client.CreateComment(context.Background(), pr, "hello")
		require.NoError(t, err)
		require.Len(t, e.fake.Comments(repo, pr), 1)
		assert.Contains(t, e.log.String(), "not there; posting it again")
	})
	t.Run("issue landed", func(t *testing.T) {
		e := setup(t)
		e.fake.Fail(func(r githubtest.Request) bool { return r.Method == "POST" && strings.HasSuffix(r.Path, "/issues") },
			1, githubtest.Fault{Status: 502, Body: `{"message":"Server Error"}`, Applied: true})
		is, err := e.client.UpsertIssue(context.Background(), forge.IssueSpec{Marker: "drift/1.x", Title: "Drift", Body: "x"})
		require.NoError(t, err)
		require.Len(t, e.fake.Issues(repo), 1)
		assert.Equal(t, e.fake.Issues(repo)[0].Number, is.Number)
	})
}
