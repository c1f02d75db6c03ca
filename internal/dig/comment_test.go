package dig

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/toolchain"
)

// recorder keeps the calls the flow makes, in order.
type recorder struct {
	calls     []string
	bodies    map[int64]string
	createErr error
	editErr   error
}

func (r *recorder) CreateComment(_ context.Context, number int, body string) (int64, error) {
	r.calls = append(r.calls, "create")
	if r.createErr != nil {
		return 0, r.createErr
	}
	if r.bodies == nil {
		r.bodies = map[int64]string{}
	}
	id := int64(1000 + number)
	r.bodies[id] = body
	return id, nil
}

func (r *recorder) EditComment(_ context.Context, id int64, body string) error {
	r.calls = append(r.calls, "edit")
	if r.editErr != nil {
		return r.editErr
	}
	if _, ok := r.bodies[id]; !ok {
		return errors.New("no such comment")
	}
	r.bodies[id] = body
	return nil
}

func TestCommentFlow(t *testing.T) {
	rec := &recorder{}
	id, err := CommentFlow(context.Background(), rec, 7, func(context.Context) (string, error) {
		rec.calls = append(rec.calls, "check")
		assert.Equal(t, Placeholder, rec.bodies[1007], "the placeholder is up before the probes start")
		return "## Service Health Check 🟢 All systems operational\n", nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1007), id)
	assert.Equal(t, []string{"create", "check", "edit"}, rec.calls)
	assert.Equal(t, "## Service Health Check 🟢 All systems operational\n", rec.bodies[1007], "the same comment is edited")
	assert.Contains(t, Placeholder, "Testing connectivity…")
}

func TestCommentFlowFailures(t *testing.T) {
	// The check fails after the placeholder is up: the comment says so.
	rec := &recorder{}
	_, err := CommentFlow(context.Background(), rec, 7, func(context.Context) (string, error) {
		return "", errors.New("catalog | broken")
	})
	assert.EqualError(t, err, "catalog | broken")
	assert.Equal(t, "## Service Health Check ⚠️ could not run\n\ncatalog \\| broken\n", rec.bodies[1007])

	// No placeholder, no probes.
	rec = &recorder{createErr: errors.New("403 Resource not accessible by integration")}
	_, err = CommentFlow(context.Background(), rec, 7, func(context.Context) (string, error) {
		t.Fatal("the check must not run without a comment to edit")
		return "", nil
	})
	assert.EqualError(t, err, "posting the placeholder comment: 403 Resource not accessible by integration")

	// The edit fails: the error names the comment left behind.
	rec = &recorder{editErr: errors.New("502")}
	id, err := CommentFlow(context.Background(), rec, 7, func(context.Context) (string, error) { return "done", nil })
	assert.Equal(t, int64(1007), id)
	assert.EqualError(t, err, "editing comment 1007 with the results: 502")
}

func TestIsCommand(t *testing.T) {
	for body, want := range map[string]bool{
		"/dig":                 true,
		"  /dig  \n":           true,
		"\n\n/dig\r\nthanks":   true,
		"/dig please":          false,
		"/digest":              false,
		"please /dig":          false,
		"> /dig\n\nquoted":     false,
		"":                     false,
		"/DIG":                 false,
		"`/dig`":               false,
		"/dig\n/apply":         true,
		"lgtm\n/dig":           false,
		"\u00a0/dig":           true,
		"/dig\u200b":           false,
		"atlantis plan\n/dig ": false,
	} {
		assert.Equal(t, want, IsCommand(body), "%q", body)
	}
}

// webhookExamples are GitHub's published issue_comment payloads
// (@octokit/webhooks-examples), as installed for the tests.
func webhookExamples(t *testing.T) []map[string]any {
	t.Helper()
	path := filepath.Join(toolchain.CacheDir(), "npm", "webhooks-examples.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s: the npm package @octokit/webhooks-examples is installed by the project's setup scripts (scripts/test)", path)
	}
	require.NoError(t, err)
	var all []struct {
		Name     string           `json:"name"`
		Examples []map[string]any `json:"examples"`
	}
	require.NoError(t, json.Unmarshal(data, &all))
	for _, e := range all {
		if e.Name == "issue_comment" {
			require.NotEmpty(t, e.Examples)
			return e.Examples
		}
	}
	t.Fatal("no issue_comment examples")
	return nil
}

func TestCommentTrigger(t *testing.T) {
	examples := webhookExamples(t)
	payload := func(ev map[string]any, edit func(ev map[string]any)) []byte {
		var c map[string]any
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &c))
		edit(c)
		b, err = json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	comment := func(ev map[string]any) map[string]any { return ev["comment"].(map[string]any) }
	issue := func(ev map[string]any) map[string]any { return ev["issue"].(map[string]any) }
	onPR := func(ev map[string]any) {
		issue(ev)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/o/r/pulls/1"}
	}
	for _, ev := range examples {
		action := ev["action"].(string)
		number := int(issue(ev)["number"].(float64))
		login := comment(ev)["user"].(map[string]any)["login"].(string)

		tr, err := CommentTrigger("issue_comment", payload(ev, func(map[string]any) {}))
		require.NoError(t, err)
		assert.False(t, tr.Run, "an ordinary comment on an issue")
		assert.Equal(t, number, tr.Number)

		tr, err = CommentTrigger("issue_comment", payload(ev, func(ev map[string]any) { comment(ev)["body"] = "/dig"; onPR(ev) }))
		require.NoError(t, err)
		if action == "created" {
			assert.True(t, tr.Run, tr.Reason)
			assert.Equal(t, "/dig by "+login+" (OWNER) on #1", tr.Reason)
		} else {
			assert.False(t, tr.Run)
			assert.Equal(t, "comment "+action+", not created", tr.Reason)
		}
		if action != "created" {
			continue
		}
		for _, assoc := range []string{"MEMBER", "COLLABORATOR"} {
			tr, err = CommentTrigger("issue_comment", payload(ev, func(ev map[string]any) {
				comment(ev)["body"], comment(ev)["author_association"] = "/dig", assoc
				onPR(ev)
			}))
			require.NoError(t, err)
			assert.True(t, tr.Run, assoc)
		}
		for _, assoc := range []string{"CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE", "MANNEQUIN", ""} {
			tr, err = CommentTrigger("issue_comment", payload(ev, func(ev map[string]any) {
				comment(ev)["body"], comment(ev)["author_association"] = "/dig", assoc
				onPR(ev)
			}))
			require.NoError(t, err)
			assert.False(t, tr.Run, assoc)
			assert.Contains(t, tr.Reason, "/dig runs for OWNER, MEMBER, COLLABORATOR")
		}
		tr, err = CommentTrigger("issue_comment", payload(ev, func(ev map[string]any) { comment(ev)["body"] = "/dig" }))
		require.NoError(t, err)
		assert.False(t, tr.Run)
		assert.Equal(t, "#1 is an issue, not a pull request", tr.Reason)
	}

	tr, err := CommentTrigger("pull_request", []byte(`{}`))
	require.NoError(t, err)
	assert.False(t, tr.Run)
	for _, bad := range []string{`{`, `[]`, `{"action":"created"}`, `{"issue":{"number":0},"comment":{}}`} {
		_, err = CommentTrigger("issue_comment", []byte(bad))
		var inputErr *InputError
		assert.ErrorAs(t, err, &inputErr, bad)
	}
}
