package dig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/githubtest"
)

const (
	testRepo = "octo/infra"
	testPR   = 7
)

// fakeGitHub is GitHub as its published REST description has it, with one PR.
func fakeGitHub(t *testing.T, dry *bytes.Buffer) (*githubtest.GitHub, *forge.Client) {
	t.Helper()
	fake := githubtest.New(t)
	fake.Repo(testRepo)
	fake.PR(testRepo, testPR, strings.Repeat("a", 40), "feature/x")
	fake.Token("tok", githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	o := forge.Options{APIURL: fake.Start(), Token: "tok",
		Retry: forge.Retry{Sleep: func(context.Context, time.Duration) error { return nil }}}
	if dry != nil {
		o.DryRun = dry
	}
	c, err := forge.New(context.Background(), testRepo, o)
	require.NoError(t, err)
	return fake, c
}

// TestCommentFlowOnGitHub: the placeholder is on the PR before any probe runs,
// and the same comment then holds the results.
func TestCommentFlowOnGitHub(t *testing.T) {
	fake, client := fakeGitHub(t, nil)
	rep := probeCodes(t, "/code/200", "/code/503")
	err := CommentFlow(context.Background(), forge.Live(client, testPR, Marker, forge.Stamp{}), func(context.Context) (string, error) {
		comments := fake.Comments(testRepo, testPR)
		require.Len(t, comments, 1)
		assert.Equal(t, "<!-- infra-flash:dig {} -->\n"+Placeholder, comments[0].Body)
		var b bytes.Buffer
		require.NoError(t, Render(&b, rep, "markdown", true))
		return b.String(), nil
	})
	require.NoError(t, err)
	comments := fake.Comments(testRepo, testPR)
	require.Len(t, comments, 1, "edited in place, not a second comment")
	body := comments[0].Body
	assert.True(t, strings.HasPrefix(body, "<!-- infra-flash:dig {} -->\n## Service Health Check 🟡 Partial outage\n"), body)
	assert.Contains(t, body, "| L2 | Service B | `svcb.${BASE_DOMAIN}/code/503` | ⚠️ 503 Service Unavailable |")
	assert.NotContains(t, body, testDomain)
	assert.Empty(t, fake.TakeViolations(), "every request matches GitHub's description")

	// A second /dig gets its own answer.
	require.NoError(t, CommentFlow(context.Background(), forge.Live(client, testPR, Marker, forge.Stamp{}), func(context.Context) (string, error) { return "again\n", nil }))
	assert.Len(t, fake.Comments(testRepo, testPR), 2)
}

// TestCommentFlowDryRun prints the create and the edit and changes nothing.
func TestCommentFlowDryRun(t *testing.T) {
	var out bytes.Buffer
	fake, client := fakeGitHub(t, &out)
	require.NoError(t, CommentFlow(context.Background(), forge.Live(client, testPR, Marker, forge.Stamp{}), func(context.Context) (string, error) {
		return "## Service Health Check 🟢 All systems operational\n", nil
	}))
	assert.Empty(t, fake.Comments(testRepo, testPR))
	printed := out.String()
	assert.True(t, strings.HasPrefix(printed, "POST /repos/octo/infra/issues/7/comments\n"), printed)
	assert.Contains(t, printed, "Testing connectivity…")
	assert.Contains(t, printed, "PATCH /repos/octo/infra/issues/comments/")
	assert.Contains(t, printed, "All systems operational")
}

// recorder is a Commenter that keeps the calls in order, for the failure paths.
type recorder struct {
	calls            []string
	body             string
	postErr, editErr error
}

func (r *recorder) Post(_ context.Context, body string) (forge.Posted, error) {
	r.calls = append(r.calls, "post")
	if r.postErr != nil {
		return nil, r.postErr
	}
	r.body = body
	return r, nil
}

func (r *recorder) Edit(_ context.Context, body string) error {
	r.calls = append(r.calls, "edit")
	if r.editErr != nil {
		return r.editErr
	}
	r.body = body
	return nil
}

func TestCommentFlowFailures(t *testing.T) {
	// The check fails after the placeholder is up: the comment says so.
	rec := &recorder{}
	err := CommentFlow(context.Background(), rec, func(context.Context) (string, error) {
		rec.calls = append(rec.calls, "check")
		return "", errors.New("catalog | broken")
	})
	assert.EqualError(t, err, "catalog | broken")
	assert.Equal(t, []string{"post", "check", "edit"}, rec.calls)
	assert.Equal(t, "## Service Health Check ⚠️ could not run\n\ncatalog \\| broken\n", rec.body)

	// No placeholder, no probes.
	rec = &recorder{postErr: errors.New("403 Resource not accessible by integration")}
	err = CommentFlow(context.Background(), rec, func(context.Context) (string, error) {
		t.Fatal("the check must not run without a comment to edit")
		return "", nil
	})
	assert.EqualError(t, err, "posting the placeholder comment: 403 Resource not accessible by integration")

	// The edit fails: said so.
	rec = &recorder{editErr: errors.New("502")}
	err = CommentFlow(context.Background(), rec, func(context.Context) (string, error) { return "done", nil })
	assert.EqualError(t, err, "editing the placeholder comment with the results: 502")

	// A cancelled run still edits the comment.
	ctx, cancel := context.WithCancel(context.Background())
	rec = &recorder{}
	err = CommentFlow(ctx, rec, func(ctx context.Context) (string, error) {
		cancel()
		rep := Probe(ctx, "dig-test.invalid", []catalog.Service{svc("x", "x", "/")}, Options{Timeout: time.Second})
		return rep.Results[0].Reason, nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"post", "edit"}, rec.calls)
}

func TestIsCommand(t *testing.T) {
	require.NotEmpty(t, CommandExamples)
	for body, want := range CommandExamples {
		assert.Equal(t, want, IsCommand(body), "%q", body)
	}
}

// TestDecide on GitHub's published issue_comment payloads, read by the same event
// parser the CLI uses, with the comment turned into /dig on a pull request.
func TestDecide(t *testing.T) {
	edit := func(raw json.RawMessage, f func(ev map[string]any)) *actions.Event {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(raw, &ev))
		f(ev)
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		parsed, err := actions.ParseEvent("issue_comment", data)
		require.NoError(t, err)
		return parsed
	}
	comment := func(ev map[string]any) map[string]any { return ev["comment"].(map[string]any) }
	dig := func(assoc string) func(map[string]any) {
		return func(ev map[string]any) {
			comment(ev)["body"] = "/dig"
			if assoc != "" {
				comment(ev)["author_association"] = assoc
			}
			ev["issue"].(map[string]any)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/o/r/pulls/1"}
		}
	}
	examples := githubtest.Webhooks(t, "issue_comment")
	created := 0
	for _, raw := range examples {
		ev := edit(raw, func(map[string]any) {})
		run, reason := Decide(ev)
		assert.False(t, run, "an ordinary comment on an issue: %s", reason)

		ev = edit(raw, dig(""))
		run, reason = Decide(ev)
		if ev.Action != "created" {
			assert.False(t, run)
			assert.Equal(t, "the comment was "+ev.Action+", not created", reason)
			continue
		}
		created++
		assert.True(t, run, reason)
		assert.Equal(t, "/dig by @"+ev.Comment.Author+" (OWNER) on #1", reason)
		for _, assoc := range []string{"MEMBER", "COLLABORATOR"} {
			run, reason = Decide(edit(raw, dig(assoc)))
			assert.True(t, run, reason)
		}
		for _, assoc := range []string{"CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE", "MANNEQUIN"} {
			run, reason = Decide(edit(raw, dig(assoc)))
			assert.False(t, run, assoc)
			assert.Equal(t, "@"+ev.Comment.Author+" is "+assoc+"; /dig runs for OWNER, MEMBER, COLLABORATOR", reason)
		}
		run, reason = Decide(edit(raw, func(ev map[string]any) { comment(ev)["body"] = "/dig" }))
		assert.False(t, run)
		assert.Equal(t, "the comment is on an issue, not a pull request", reason)
	}
	assert.NotZero(t, created)
	run, reason := Decide(&actions.Event{Name: "pull_request", Action: "opened", PR: 1})
	assert.False(t, run)
	assert.Equal(t, "a pull_request event is not a comment", reason)
	run, _ = Decide(nil)
	assert.False(t, run)

	assert.Empty(t, Skip(nil), "no event: the caller named the PR")
	assert.Empty(t, Skip(&actions.Event{Name: "workflow_dispatch"}))
	assert.Empty(t, Skip(edit(examples[0], dig("COLLABORATOR"))))
	assert.Equal(t, "the comment is not /dig", Skip(edit(examples[0], func(map[string]any) {})))
}
