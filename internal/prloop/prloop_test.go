package prloop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/prloop"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/slash"
	"github.com/infra-flash/infra/internal/stage"
)

const repo = "octo/infra"

var (
	head  = strings.Repeat("1", 40)
	older = strings.Repeat("2", 40)
	t0    = time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	atl   = githubtest.User{Login: "infra-flash[bot]", Type: "Bot"}
)

func eventFile(t *testing.T, name string, edit func(map[string]any)) string {
	t.Helper()
	action := ""
	if name != "push" {
		action = map[string]string{"pull_request": "opened", "issue_comment": "created"}[name]
	}
	ev := githubtest.Webhook(t, name, action)
	if edit != nil {
		edit(ev)
	}
	data, err := json.Marshal(ev)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestResolvePrecedence(t *testing.T) {
	env := actions.Env{Repository: "env/repo", EventName: "pull_request", SHA: strings.Repeat("e", 40),
		APIURL: "https://ghes.example/api/v3", ServerURL: "https://ghes.example", RunID: 5}
	env.EventPath = eventFile(t, "pull_request", nil)

	got, err := prloop.Resolve(prloop.Flags{}, env)
	require.NoError(t, err)
	assert.Equal(t, "env/repo", got.Repo, "GITHUB_REPOSITORY over the event's")
	assert.Equal(t, 2, got.PR)
	assert.Equal(t, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", got.SHA, "the PR head, not GITHUB_SHA (a merge commit)")
	assert.Equal(t, "changes", got.Branch)
	assert.Equal(t, "https://ghes.example/api/v3", got.APIURL)
	assert.Equal(t, "https://ghes.example/env/repo/actions/runs/5", got.RunURL)

	got, err = prloop.Resolve(prloop.Flags{Repo: "flag/repo", PR: 9, SHA: head, APIURL: "http://127.0.0.1:1/", RunURL: "https://ci/run"}, env)
	require.NoError(t, err)
	assert.Equal(t, prloop.Target{Repo: "flag/repo", PR: 9, SHA: head, APIURL: "http://127.0.0.1:1/", RunURL: "https://ci/run", Event: got.Event}, got,
		"explicit flags win; the event's branch belongs to its own commit only")

	push := actions.Env{EventName: "push", EventPath: eventFile(t, "push", nil), SHA: strings.Repeat("f", 40)}
	got, err = prloop.Resolve(prloop.Flags{}, push)
	require.NoError(t, err)
	assert.Equal(t, "Codertocat/Hello-World", got.Repo, "the event's repository when nothing else names one")
	assert.Zero(t, got.PR)
	assert.Equal(t, "6113728f27ae82c7b1a177c8d03f9e96e0adf246", got.SHA)
	assert.Equal(t, forge.DefaultAPIURL, got.APIURL)

	_, err = prloop.Resolve(prloop.Flags{EventPath: env.EventPath}, actions.Env{})
	assert.ErrorContains(t, err, "--event needs --event-name")
	_, err = prloop.Resolve(prloop.Flags{}, actions.Env{})
	assert.ErrorContains(t, err, "no repository")
	_, err = prloop.Resolve(prloop.Flags{Repo: "a/b", EventData: []byte("[]"), EventName: "pull_request"}, actions.Env{})
	var ee *actions.EventError
	assert.ErrorAs(t, err, &ee)
}

func fixture(t *testing.T) (*githubtest.GitHub, *forge.Client) {
	t.Helper()
	fake := githubtest.New(t)
	fake.Repo(repo)
	fake.PR(repo, 3, head, "feature/x")
	fake.Commit(repo, head, "the head", t0)
	fake.Commit(repo, older, "an older commit", t0.Add(-time.Hour))
	fake.Token("tok", githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	c, err := forge.New(context.Background(), repo, forge.Options{APIURL: fake.Start(), Token: "tok",
		Retry: forge.Retry{Sleep: func(context.Context, time.Duration) error { return nil }}})
	require.NoError(t, err)
	return fake, c
}

func sampleReport() (*report.Report, []*layers.Layer) {
	l1 := &layers.Layer{Dir: "1.bootstrap", Path: "terraform/1.bootstrap", Index: 1, Name: "bootstrap", Title: "Bootstrap"}
	l2 := &layers.Layer{Dir: "2.platform", Path: "terraform/2.platform", Index: 2, Name: "platform", Title: "Platform", DependsOn: []string{"1.bootstrap"}}
	pass := stage.Result{Status: stage.Pass, Findings: []stage.Finding{}}
	fail := stage.Result{Status: stage.Fail, Findings: []stage.Finding{{File: "terraform/2.platform/main.tf", Line: 3, Severity: "error", Message: "bad"}}}
	return &report.Report{Engine: "tofu", Stages: stage.Kinds, Layers: []report.LayerResult{
		{Layer: l2, Results: map[stage.Kind]stage.Result{stage.Format: pass, stage.Lint: fail, stage.Validate: pass}},
	}}, []*layers.Layer{l1, l2}
}

func TestFlashReadsAtlantisFromTheSameListItEdits(t *testing.T) {
	fake, c := fixture(t)
	plan := "Ran Plan for dir: `terraform/2.platform` workspace: `default`\n\n```diff\n+ x\n```\nPlan: 2 to add, 0 to change, 0 to destroy.\n"
	fake.AddComment(repo, 3, atl, plan)
	fake.AddComment(repo, 3, githubtest.User{Login: "mallory"}, "Ran Plan for dir: `terraform/1.bootstrap` workspace: `default`\n\nPlan: 9 to add")
	rep, ls := sampleReport()
	in := prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: head, Branch: "feature/x"}, Report: rep, Layers: ls}

	res, err := prloop.Flash(context.Background(), c, in)
	require.NoError(t, err)
	assert.Equal(t, forge.Created, res.Comment.Action)
	assert.Equal(t, "check runs", res.Checks)
	body := fake.Comments(repo, 3)[2].Body
	assert.Contains(t, body, "| **L2** Platform | ✅ Plan: 2 to add, 0 to change, 0 to destroy. ([comment](")
	assert.NotContains(t, body, "9 to add", "a human's text is not Atlantis's")
	assert.Len(t, res.Annotations, 1)
	assert.Contains(t, res.Summary, "| **L2** Platform | ✅ | ❌ | ✅ |")
	assert.NotContains(t, res.Summary, "the full report is in", "the summary is the full report")

	// Steady state: the commit, one paginated list and one edit for the comment.
	fake.Reset()
	rep.Layers[0].Results[stage.Lint] = stage.Result{Status: stage.Pass, Findings: []stage.Finding{}}
	res, err = prloop.Flash(context.Background(), c, in)
	require.NoError(t, err)
	assert.Equal(t, forge.Edited, res.Comment.Action)
	var calls []string
	for _, r := range fake.Requests() {
		calls = append(calls, r.Method+" "+r.Path)
	}
	assert.Equal(t, []string{
		"GET /repos/octo/infra/commits/" + head,
		"GET /repos/octo/infra/issues/3/comments",
		"GET /user", "POST /graphql",
		"PATCH /repos/octo/infra/issues/comments/" + strconv.FormatInt(res.Comment.Comment.ID, 10),
		"POST /repos/octo/infra/check-runs",
	}, calls)

	// Only the named accounts count as Atlantis when named.
	res, err = prloop.Flash(context.Background(), c, prloop.FlashInput{Target: in.Target, Report: rep, Layers: ls, AtlantisUsers: []string{"atlantis"}})
	require.NoError(t, err)
	assert.Contains(t, res.CommentText, "_No Atlantis plan on this PR yet._")
}

// In comment mode the comment's Plans section shows what /plan and /apply
// recorded on the head (through the comment flow's own writer) and the
// commands; Atlantis's comments are not read as results.
func TestFlashInCommentModeShowsThePlansOfTheHead(t *testing.T) {
	fake, c := fixture(t)
	fake.AddComment(repo, 3, atl, "Ran Plan for dir: `terraform/2.platform` workspace: `default`\n\nPlan: 2 to add, 0 to change, 0 to destroy.\n")
	rep, ls := sampleReport()
	target := prloop.Target{Repo: repo, PR: 3, SHA: head, Branch: "feature/x", RunURL: "https://github.com/octo/infra/actions/runs/9"}
	in := prloop.FlashInput{Target: target, Report: rep, Layers: ls, CommentMode: true}

	res, err := prloop.Flash(context.Background(), c, in)
	require.NoError(t, err)
	assert.Contains(t, res.CommentText, "### 🔮 Plans (from comments)")
	assert.Contains(t, res.CommentText, "_No `/plan` on `1111111` yet._")
	assert.NotContains(t, res.CommentText, "2 to add", "Atlantis's comments are no results in comment mode")

	pr := prloop.CommentPR{Client: c, Target: target}
	require.NoError(t, pr.Record(context.Background(), head, slash.Plan, "success", "2.platform planned (+2 ~0 -0)"))
	require.NoError(t, pr.Record(context.Background(), older, slash.Apply, "success", "an older commit's apply"))
	res, err = prloop.Flash(context.Background(), c, in)
	require.NoError(t, err)
	assert.Contains(t, res.CommentText, "| `/plan` | ✅ 2.platform planned (+2 ~0 -0) ([run](https://github.com/octo/infra/actions/runs/9)) |")
	assert.Contains(t, res.CommentText, "| `/apply` | — |", "the older commit's apply is not the head's")
	assert.Equal(t, "success", fake.Statuses(repo, head)[0].State)
	assert.Equal(t, "infra-comment/plan", fake.Statuses(repo, head)[0].Context)

	// The comment flow's statuses do not gate /apply's checks.
	require.NoError(t, pr.Record(context.Background(), head, slash.Plan, "failure", "2.platform failed"))
	_, why, err := pr.ChecksPassed(context.Background(), head)
	require.NoError(t, err)
	assert.Equal(t, "checks on 1111111: infra-flash/2.platform is failure", why, "the lint failure only")
	assert.Empty(t, fake.TakeViolations())
}

func TestFlashForAnOlderCommitKeepsTheComment(t *testing.T) {
	fake, c := fixture(t)
	rep, ls := sampleReport()
	_, err := prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: head}, Report: rep, Layers: ls})
	require.NoError(t, err)
	var logs []string
	res, err := prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: older}, Report: rep, Layers: ls,
		Log: func(s string) { logs = append(logs, s) }})
	require.NoError(t, err)
	assert.Equal(t, forge.Kept, res.Comment.Action)
	assert.Contains(t, res.CommentText, "`2222222` - an older commit", "--format markdown still shows this run's comment")
	assert.Contains(t, fake.Comments(repo, 3)[0].Body, "`1111111` - the head")
	assert.Contains(t, strings.Join(logs, "\n"), "comment left as it is: the comment shows commit 1111111, newer than 2222222")
	assert.Len(t, fake.CheckRuns(repo), 2, "the older commit still gets its own checks")
	assert.Equal(t, older, fake.CheckRuns(repo)[1].HeadSHA)
}

func TestFlashOnAPushSetsChecksOnly(t *testing.T) {
	fake, c := fixture(t)
	rep, ls := sampleReport()
	var logs []string
	res, err := prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, SHA: head}, Report: rep, Layers: ls,
		Log: func(s string) { logs = append(logs, s) }})
	require.NoError(t, err)
	assert.Nil(t, res.Comment)
	assert.Len(t, fake.CheckRuns(repo), 1)
	assert.Contains(t, strings.Join(logs, "\n"), "no pull request")
	assert.Contains(t, res.CommentText, "`1111111` - the head")
}

func TestChecksDescribeEachLayer(t *testing.T) {
	rep, _ := sampleReport()
	checks := prloop.Checks(rep, "https://ci/run/1")
	require.Len(t, checks, 1)
	assert.Equal(t, forge.Check{Name: "infra-flash/2.platform", State: "failure", TargetURL: "https://ci/run/1",
		Description: "L2 Platform: Format ✅ · Lint ❌ 1 · Validate ✅", Summary: checks[0].Summary}, checks[0])
	assert.Contains(t, checks[0].Summary, "terraform/2.platform/main.tf:3")
	assert.LessOrEqual(t, len([]rune(checks[0].Description)), forge.DescriptionLimit)
}

// Issue 17's done-when: an outsider's comment carrying our marker survives two
// flash runs untouched while exactly one comment of ours exists.
func TestFlashLeavesAForgedMarkerCommentAlone(t *testing.T) {
	fake, c := fixture(t)
	mallory := githubtest.User{Login: "mallory", Association: "CONTRIBUTOR"}
	forged := "<!-- infra-flash:pr {} -->\n## ✅ all checks passed"
	id := fake.AddComment(repo, 3, mallory, forged)
	rep, ls := sampleReport()
	var logs []string
	in := prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: head}, Report: rep, Layers: ls,
		Log: func(s string) { logs = append(logs, s) }}
	for run := 0; run < 2; run++ {
		_, err := prloop.Flash(context.Background(), c, in)
		require.NoError(t, err)
	}
	var own int
	for _, cm := range fake.Comments(repo, 3) {
		if cm.ID == id {
			assert.Equal(t, forged, cm.Body)
			assert.Equal(t, cm.Created, cm.Updated, "never edited")
			continue
		}
		own++
		assert.Equal(t, "github-actions[bot]", cm.User.Login)
	}
	assert.Equal(t, 1, own)
	assert.Len(t, fake.Comments(repo, 3), 2, "the forged comment is still there")
}

// A commit the API cannot show (Gitea answers 404 for GitHub's commits/{sha})
// costs the comment its subject, not the run.
func TestFlashGoesOnWhenTheCommitCannotBeRead(t *testing.T) {
	fake, c := fixture(t)
	unknown := strings.Repeat("3", 40)
	fake.PR(repo, 3, unknown, "feature/x")
	rep, ls := sampleReport()
	var logs []string
	res, err := prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3}, Report: rep, Layers: ls,
		Log: func(s string) { logs = append(logs, s) }})
	require.NoError(t, err)
	assert.Equal(t, forge.Created, res.Comment.Action)
	assert.Contains(t, strings.Join(logs, "\n"), "commit 3333333: ")
}

// A dry run that cannot reach the API, given a PR and an event without a head
// commit, says which commit it could not find, not to pass what was passed.
func TestFlashDryRunOfflineNamesThePR(t *testing.T) {
	var dry strings.Builder
	c, err := forge.New(context.Background(), repo, forge.Options{APIURL: "http://127.0.0.1:1/", DryRun: &dry,
		Retry: forge.Retry{Attempts: 1}})
	require.NoError(t, err)
	rep, ls := sampleReport()
	_, err = prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3}, Report: rep, Layers: ls})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no commit: the head of PR #3 could not be read (GitHub GET /repos/octo/infra/pulls/3")
	assert.NotContains(t, err.Error(), "pass --sha (or --pr, or an event)")
}

// A report bigger than the job summary's limit: the summary is cut, and the
// comment's footer says so instead of promising the full report there.
func TestFlashFooterKnowsTheSummaryWasCut(t *testing.T) {
	_, c := fixture(t)
	rep, ls := sampleReport()
	var fs []stage.Finding
	for i := 0; i < 5000; i++ {
		fs = append(fs, stage.Finding{File: "terraform/2.platform/main.tf", Line: i + 1, Severity: "error", Rule: "rule",
			Message: fmt.Sprintf("finding %d %s", i, strings.Repeat("y", 220))})
	}
	rep.Layers[0].Results[stage.Lint] = stage.Result{Status: stage.Fail, Findings: fs}
	res, err := prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: head}, Report: rep, Layers: ls})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(res.Summary), actions.SummaryLimit)
	assert.Contains(t, res.Summary, "more findings are not shown here")
	assert.NotContains(t, res.CommentText, "the full report is in")
	assert.Contains(t, res.CommentText, "cut to GitHub's size limit too")

	// A small report: the summary is whole, and the footer says so.
	rep, ls = sampleReport()
	res, err = prloop.Flash(context.Background(), c, prloop.FlashInput{Target: prloop.Target{Repo: repo, PR: 3, SHA: head}, Report: rep, Layers: ls})
	require.NoError(t, err)
	assert.Contains(t, res.CommentText, "the full report is in the run's job summary")
}
