package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/github/githubtest"
)

// digComment is GitHub's issue_comment example as a comment on this repository's
// PR, from an author with the given association.
func digComment(t *testing.T, body, association string) map[string]any {
	t.Helper()
	ev := githubtest.Webhook(t, "issue_comment", "created")
	ev["repository"].(map[string]any)["full_name"] = ghRepo
	issue := ev["issue"].(map[string]any)
	issue["number"] = ghPR
	issue["pull_request"] = map[string]any{"url": "https://api.github.com/repos/" + ghRepo + "/pulls/7"}
	c := ev["comment"].(map[string]any)
	c["body"], c["author_association"] = body, association
	return ev
}

// In the Actions job of a trusted /dig, the placeholder becomes the results, with
// the domain masked, and the exit code says whether every service was healthy.
func TestDigAnswersSlashDig(t *testing.T) {
	r := newRunner(t, "issue_comment", digComment(t, "/dig", "MEMBER"))
	src := digRepo(t, strings.Replace(digCatalog, "/code/401", "/code/504", 1))
	connectTo, cacert := digServer(t)
	res := run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert)
	assert.Equal(t, 1, res.code, res.stderr)
	comments := r.fake.Comments(ghRepo, ghPR)
	require.Len(t, comments, 1)
	body := comments[0].Body
	assert.True(t, strings.HasPrefix(body, "<!-- infra-flash:dig {} -->\n## Service Health Check 🟡 Partial outage\n"), body)
	assert.Contains(t, body, "| L1 | App | `app.${BASE_DOMAIN}/code/200` | ✅ 200 OK |")
	assert.Contains(t, body, "| L2 | Vault | `vault.${BASE_DOMAIN}/code/504` | ❌ 504 Gateway Timeout (expected 401/403) |")
	assert.NotContains(t, body+res.stderr+res.stdout, "example.test", "neither the comment nor the log shows the domain")
	assert.Contains(t, body, "UTC · [run](https://github.com/octo/infra/actions/runs/99) · 10s timeout per service")
	assert.Contains(t, res.stdout, "Results: 1/2 healthy", "the report is printed too")
	var methods []string
	for _, req := range r.fake.Requests() {
		if req.Method != "GET" {
			methods = append(methods, req.Method)
		}
	}
	assert.Equal(t, []string{"POST", "PATCH"}, methods, "one placeholder, then one edit")
	assert.Empty(t, r.fake.TakeViolations())
}

func TestDigSkipsOtherComments(t *testing.T) {
	for body, assoc := range map[string]string{"/dig": "CONTRIBUTOR", "/digest": "OWNER", "lgtm": "MEMBER"} {
		r := newRunner(t, "issue_comment", digComment(t, body, assoc))
		src := digRepo(t, digCatalog)
		res := run(t, "dig", "--source", src, "--domain", "example.test")
		assert.Equal(t, 0, res.code, res.stderr)
		assert.Contains(t, res.stderr, "infra dig: skipped: ")
		assert.NotContains(t, res.stderr, "probing")
		assert.Empty(t, res.stdout)
		assert.Empty(t, r.fake.Comments(ghRepo, ghPR))
	}
}

// --pr on another event answers there; --dry-run prints the two requests and
// sends neither.
func TestDigDryRunOnAPullRequest(t *testing.T) {
	r := newRunner(t, "", nil)
	src := digRepo(t, digCatalog)
	connectTo, cacert := digServer(t)
	res := run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert, "--pr", "7", "--dry-run", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, r.fake.Comments(ghRepo, ghPR))
	// JSON on stdout stays one document: the requests go to stderr.
	assert.True(t, strings.HasPrefix(res.stderr, "POST /repos/octo/infra/issues/7/comments\n"), res.stderr)
	assert.Contains(t, res.stderr, "Testing connectivity…")
	assert.Contains(t, res.stderr, "PATCH /repos/octo/infra/issues/comments/{id of the comment created above}\n")
	assert.Contains(t, res.stderr, "All systems operational")
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), res.stdout)
	assert.Equal(t, "operational", rep["status"])

	res = run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert, "--pr", "7", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	assert.True(t, strings.HasPrefix(res.stdout, "POST /repos/octo/infra/issues/7/comments\n"), "beside a text report, on stdout: %s", res.stdout)
}

func TestDigOnPRBadInput(t *testing.T) {
	r := newRunner(t, "", nil)
	src := digRepo(t, digCatalog)
	ev := filepath.Join(t.TempDir(), "ev.json")
	require.NoError(t, os.WriteFile(ev, []byte("{not json"), 0o600))
	data, err := json.Marshal(digComment(t, "/dig", "OWNER"))
	require.NoError(t, err)
	issueEv := filepath.Join(t.TempDir(), "issue.json")
	var onIssue map[string]any
	require.NoError(t, json.Unmarshal(data, &onIssue))
	delete(onIssue["issue"].(map[string]any), "pull_request")
	data, err = json.Marshal(onIssue)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(issueEv, data, 0o600))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pr", "7", "--repo", "nope"}, `--repo "nope" is not OWNER/NAME`},
		{[]string{"--event", ev, "--event-name", "issue_comment"}, "not a JSON object"},
		{[]string{"--pr", "7", "--domain", "https://example.test"}, "a domain, not a URL"},
		{[]string{"--pr", "7", "--app-id", "3"}, "--app-id needs the App's private key"},
	} {
		res := run(t, append([]string{"dig", "--source", src, "--domain", "example.test"}, c.args...)...)
		assert.Equal(t, 2, res.code, "%v: %s", c.args, res.stderr)
		assert.Contains(t, res.stderr, c.want, c.args)
		assert.Empty(t, res.stdout)
	}
	// A /dig on an issue, not a PR: skipped, nothing posted.
	res := run(t, "dig", "--source", src, "--domain", "example.test", "--event", issueEv, "--event-name", "issue_comment")
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "skipped: the comment is on an issue, not a pull request")
	assert.Empty(t, r.fake.Requests())
}
