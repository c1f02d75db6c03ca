package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/giteatest"
	"github.com/infra-flash/infra/internal/testfixture"
)

const forgedFlash = "<!-- infra-flash:pr {} -->\n## ⚡ infra-flash\n✅ every check passed (forged)"

// giteaJob is a job outside GitHub Actions, talking to a real Gitea as its bot.
func giteaJob(t *testing.T) (*giteatest.Gitea, string) {
	t.Helper()
	g := giteatest.Start(t)
	for _, k := range []string{"GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_SHA",
		"GITHUB_API_URL", "GITHUB_SERVER_URL", "GITHUB_RUN_ID", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
		t.Setenv(k, "")
	}
	t.Setenv("GITHUB_TOKEN", g.Bot.Token)
	return g, g.Repo(t, "infra")
}

func writeEvent(t *testing.T, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(p, body, 0o600))
	return p
}

// The PR commands against a real Gitea, with the bot's account and an
// outsider's: flash (on Gitea's own pull_request payload) twice beside a forged
// marker comment, kick-atlantis three times, dig --pr, and review-gate on
// Gitea's comment payload.
func TestPRCommandsAgainstGitea(t *testing.T) {
	g, repoName := giteaJob(t)
	testfixture.Tools(t, "terraform")
	hook := g.Hook(t, repoName)
	pr := g.OpenPR(t, repoName, "feature/vault", "vault.tf", "# vault\n")
	num := strconv.Itoa(pr.Number)
	gh := []string{"--repo", repoName, "--api-url", g.API}
	prEvent := hook.Wait(t, func(p giteatest.Payload) bool { return p.Event == "pull_request" })
	forged := g.Comment(t, g.Outsider, repoName, pr.Number, forgedFlash)

	src := repo(t, threeLayers())
	for i := 0; i < 2; i++ {
		res := run(t, append([]string{"flash", "--source", src, "--layer", "all", "--engine", "terraform",
			"--event", writeEvent(t, prEvent.Body), "--event-name", "pull_request"}, gh...)...)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Contains(t, res.stderr, "this API has no check runs (404")
		assert.Equal(t, 1, strings.Count(res.stderr, "left alone 1 comment(s) carrying the infra-flash marker written by @mallory"), "said once a run: %s", res.stderr)
	}
	var own []giteatest.IssueComment
	for _, c := range g.Comments(t, repoName, pr.Number) {
		switch {
		case c.ID == forged:
			assert.Equal(t, forgedFlash, c.Body, "the outsider's comment is untouched")
			assert.Equal(t, c.Created, c.Updated)
		case strings.HasPrefix(c.Body, "<!-- infra-flash:pr "):
			own = append(own, c)
		}
	}
	require.Len(t, own, 1, "exactly one comment of ours")
	assert.Equal(t, g.Bot.Login, own[0].User.Login)
	assert.Contains(t, own[0].Body, "`"+pr.HeadSHA[:7]+"` - feat: vault.tf", "the commit read where Gitea keeps it")
	assert.Contains(t, own[0].Body, "| **L3** Data | ✅")
	states := map[string]string{}
	for name, s := range g.LatestStatuses(t, repoName, pr.HeadSHA) {
		states[name] = s.Status
	}
	assert.Equal(t, "success", states["infra-flash/3.data"], "commit statuses stand in for check runs")

	// Atlantis is asked once per commit, however often the job reruns.
	for i := 0; i < 3; i++ {
		res := run(t, append([]string{"kick-atlantis", "--source", src, "--layer", "platform,data", "--pr", num}, gh...)...)
		require.Equal(t, 0, res.code, res.stderr)
	}
	var plans []string
	for _, c := range g.Comments(t, repoName, pr.Number) {
		if strings.HasPrefix(c.Body, "atlantis plan") {
			plans = append(plans, c.Body)
		}
	}
	assert.Equal(t, []string{"atlantis plan -d terraform/2.platform", "atlantis plan -d terraform/3.data"}, plans)

	// dig answers on the PR: a placeholder, edited into the results.
	connectTo, cacert := digServer(t)
	res := run(t, append([]string{"dig", "--source", digRepo(t, digCatalog), "--domain", "example.test",
		"--connect-to", connectTo, "--cacert", cacert, "--pr", num}, gh...)...)
	require.Equal(t, 0, res.code, res.stderr)
	var digs int
	for _, c := range g.Comments(t, repoName, pr.Number) {
		if strings.HasPrefix(c.Body, "<!-- infra-flash:dig ") {
			digs++
			assert.Contains(t, c.Body, "All systems operational")
			assert.NotContains(t, c.Body, "example.test")
		}
	}
	assert.Equal(t, 1, digs)

	// review-gate decides on Gitea's own comment payload: Gitea sends no
	// author association, so nobody is trusted and nothing runs.
	g.Comment(t, g.Outsider, repoName, pr.Number, "PTAL @claude")
	comment := hook.Wait(t, func(p giteatest.Payload) bool { return bytes.Contains(p.Body, []byte("PTAL @claude")) })
	res = run(t, "review-gate", "--event", writeEvent(t, comment.Body), "--event-name", "issue_comment")
	require.Equal(t, 0, res.code, "%s event: %s", comment.Event, res.stderr)
	assert.True(t, strings.HasPrefix(res.stdout, "run=false\nreason=@mallory asked with @claude but is unknown"), res.stdout)
}

// drift --issues keeps one issue per drifted layer on Gitea, and leaves an
// outsider's issue carrying the same marker alone.
func TestDriftIssuesAgainstGitea(t *testing.T) {
	g, repoName := giteaJob(t)
	src, backend, vars, _ := stateRepo(t)
	common := []string{"--source", src, "--backend-config", backend, "--var-file", vars}
	r := run(t, append([]string{"apply", "--layer", "all", "--sha", "abc123"}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var forged giteatest.Issue
	g.Do(t, g.Outsider, "POST", "repos/"+repoName+"/issues", map[string]any{"title": "Drift (forged)",
		"body": "<!-- infra-flash:drift/2.two {} -->\nnothing to see"}, &forged)

	issueArgs := append([]string{"drift", "--issues", "--repo", repoName, "--api-url", g.API}, common...)
	testfixture.Write(t, src, testfixture.Files{"terraform/2.two/more.tf": "resource \"null_resource\" \"more\" {}\n"})
	r = run(t, issueArgs...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "drift issue of 2.two: created")
	r = run(t, issueArgs...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "drift issue of 2.two: unchanged")

	r = run(t, append([]string{"apply", "--sha", "abc123"}, common...)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = run(t, issueArgs...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "drift issue of 2.two: closed")
	var ours int
	for _, is := range g.Issues(t, repoName) {
		if is.Number == forged.Number {
			assert.Equal(t, "open", is.State, "the outsider's issue is left alone")
			assert.Equal(t, "Drift (forged)", is.Title)
			continue
		}
		ours++
		assert.Equal(t, "closed", is.State)
		assert.Equal(t, fmt.Sprintf("Drift in L2 Two (%s)", "2.two"), is.Title)
		assert.Equal(t, g.Bot.Login, is.User.Login)
	}
	assert.Equal(t, 1, ours)
}
