package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/testfixture"
)

const (
	ghRepo  = "octo/infra"
	ghPR    = 7
	ghToken = "ghs_cli_test_token"
)

var headSHA = strings.Repeat("d", 40)

// runner is a GitHub Actions job around the CLI: a fake GitHub on loopback, the
// runner's variables and files, and a pull_request event from GitHub's examples.
type runner struct {
	fake                    *githubtest.GitHub
	api                     string
	dir                     string
	summary, output, evPath string
}

func newRunner(t *testing.T, eventName string, event map[string]any) *runner {
	t.Helper()
	// The fake and the event come first: the tool setup moves INFRA_CACHE_DIR.
	t.Setenv("INFRA_TESTDATA_DIR", githubtest.Dir())
	fake := githubtest.New(t)
	fake.Repo(ghRepo)
	fake.PR(ghRepo, ghPR, headSHA, "feature/vault")
	fake.Commit(ghRepo, headSHA, "feat: add vault\n\nwith words", time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	fake.Token(ghToken, githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	r := &runner{fake: fake, api: fake.Start(), dir: t.TempDir()}
	if event == nil {
		event = prEvent(t)
		eventName = "pull_request"
	}
	data, err := json.Marshal(event)
	require.NoError(t, err)
	r.evPath = filepath.Join(r.dir, "event.json")
	require.NoError(t, os.WriteFile(r.evPath, data, 0o600))
	r.summary = filepath.Join(r.dir, "summary.md")
	r.output = filepath.Join(r.dir, "output")
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": ghRepo, "GITHUB_EVENT_NAME": eventName, "GITHUB_EVENT_PATH": r.evPath,
		"GITHUB_SHA": strings.Repeat("e", 40), "GITHUB_API_URL": r.api, "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "99", "GITHUB_STEP_SUMMARY": r.summary, "GITHUB_OUTPUT": r.output, "GITHUB_TOKEN": ghToken,
	} {
		t.Setenv(k, v)
	}
	return r
}

// prEvent is GitHub's pull_request example, moved to this repository and PR.
func prEvent(t *testing.T) map[string]any {
	ev := githubtest.Webhook(t, "pull_request", "synchronize")
	ev["number"] = ghPR
	ev["repository"].(map[string]any)["full_name"] = ghRepo
	pr := ev["pull_request"].(map[string]any)
	pr["number"] = ghPR
	pr["head"].(map[string]any)["sha"] = headSHA
	pr["head"].(map[string]any)["ref"] = "feature/vault"
	return ev
}

func (r *runner) read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(data)
}

var annotation = regexp.MustCompile(`(?m)^::(error|warning|notice)( [^:]*)?::.*$`)

func lintFinding() testfixture.Files {
	files := threeLayers()
	files["terraform/3.data/variables.tf"] = "variable \"unused\" {\n  description = \"Never read.\"\n  type        = string\n  default     = \"x\"\n}\n"
	return files
}

// In an Actions job, flash posts one comment (then edits it), a check per layer,
// the job summary and the annotations, and exits 1 after posting when a check failed.
func TestFlashInAnActionsJob(t *testing.T) {
	r := newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	src := repo(t, lintFinding())

	res := run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform")
	require.Equal(t, 1, res.code, res.stderr)
	comments := r.fake.Comments(ghRepo, ghPR)
	require.Len(t, comments, 1)
	body := comments[0].Body
	assert.True(t, strings.HasPrefix(body, `<!-- infra-flash:pr {"sha":"`+headSHA+`","time":"2026-11-03T08:00:00Z"} -->`), body)
	assert.Contains(t, body, "## ⚡ infra-flash | `feature/vault`")
	assert.Contains(t, body, "`ddddddd` - feat: add vault\n")
	assert.Contains(t, body, "| **L3** Data | ✅ | ❌ | ✅ |")
	assert.Contains(t, body, "terraform_unused_declarations")
	assert.Contains(t, body, "[The run](https://github.com/octo/infra/actions/runs/99)")
	assert.Contains(t, res.stderr, "infra-flash: comment created")

	runs := r.fake.CheckRuns(ghRepo)
	require.Len(t, runs, 3)
	assert.Equal(t, "infra-flash/1.bootstrap", runs[0].Name)
	assert.Equal(t, "success", runs[0].Conclusion)
	assert.Equal(t, "failure", runs[2].Conclusion)
	assert.Equal(t, headSHA, runs[2].HeadSHA)

	summary := r.read(t, r.summary)
	assert.Contains(t, summary, "| **L3** Data | ✅ | ❌ | ✅ |")
	assert.Contains(t, summary, `variable "unused" is declared but not used`)
	lines := annotation.FindAllString(res.stdout, -1)
	require.Len(t, lines, 1)
	assert.Equal(t, "::warning col=1,file=terraform/3.data/variables.tf,line=1,title=L3 Data · lint · terraform_unused_declarations::"+
		`variable "unused" is declared but not used`, lines[0])
	assert.Contains(t, res.stdout, "L3 Data", "the text report follows")

	// The rerun edits the same comment: one list, one edit for the comment.
	r.fake.Reset()
	r.fake.PR(ghRepo, ghPR, headSHA, "feature/vault")
	res = run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform", "--run-url", "https://github.com/octo/infra/actions/runs/100")
	require.Equal(t, 1, res.code, res.stderr)
	require.Len(t, r.fake.Comments(ghRepo, ghPR), 1, "exactly one comment")
	assert.Contains(t, r.fake.Comments(ghRepo, ghPR)[0].Body, "actions/runs/100")
	var commentCalls []string
	for _, q := range r.fake.Requests() {
		if strings.Contains(q.Path, "/comments") {
			commentCalls = append(commentCalls, q.Method)
		}
	}
	assert.Equal(t, []string{"GET", "PATCH"}, commentCalls)
}

func TestFlashDryRunPrintsAndSendsNothing(t *testing.T) {
	r := newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	t.Setenv("GITHUB_TOKEN", "")
	src := repo(t, threeLayers())

	res := run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform", "--dry-run", "--format", "markdown")
	require.Equal(t, 0, res.code, res.stderr)
	for _, q := range r.fake.Requests() {
		assert.Equal(t, "GET", q.Method, "%s", q)
	}
	assert.Empty(t, r.fake.Comments(ghRepo, ghPR))
	assert.Contains(t, res.stdout, "POST /repos/octo/infra/issues/7/comments\n{\n  \"body\": \"<!-- infra-flash:pr ")
	assert.Contains(t, res.stdout, "----- body as posted -----\n<!-- infra-flash:pr ", "the dry run shows the comment as GitHub will")
	assert.Contains(t, res.stdout, "POST /repos/octo/infra/check-runs\n")
	assert.Contains(t, res.stdout, "## ⚡ infra-flash | `feature/vault`", "--format markdown shows the comment itself")

	// --summary-only: the summary alone, nothing else on stdout.
	res = run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform", "--summary-only")
	require.Equal(t, 0, res.code, res.stderr)
	assert.True(t, strings.HasPrefix(res.stdout, "## ⚡ infra-flash | `feature/vault`"), res.stdout)
	assert.NotContains(t, res.stdout, "POST /")
	assert.Empty(t, r.fake.Comments(ghRepo, ghPR))
}

// infra.hcl's pr_automation chooses the comment's plan section: Atlantis's by
// default; in comment mode, Plans, with what /plan recorded on the head.
func TestFlashShowsPlansInCommentMode(t *testing.T) {
	r := newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	r.fake.AddStatus(ghRepo, githubtest.Status{SHA: headSHA, State: "success", Context: "infra-comment/plan", Description: "2.platform planned (+1 ~0 -0)"})
	files := threeLayers()
	flash := func(src string) result {
		return run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform", "--dry-run", "--format", "markdown")
	}
	res := flash(repo(t, files))
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "### 🔮 Atlantis (Real Plan/Apply)")
	assert.NotContains(t, res.stdout, "Plans (from comments)")

	files["infra.hcl"] = "pr_automation = \"comments\"\n"
	res = flash(repo(t, files))
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "### 🔮 Plans (from comments)")
	assert.Contains(t, res.stdout, "| `/plan` | ✅ 2.platform planned (+1 ~0 -0) |")
	assert.Contains(t, res.stdout, "| `/apply [--env NAME] [layer ...]` |")
	assert.NotContains(t, res.stdout, "Atlantis (Real")
}

// A canary token never appears in output, logs, the summary or anything sent.
func TestFlashNeverShowsTheToken(t *testing.T) {
	const canary = "ghs_CANARYcanary0123456789CANARY"
	r := newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	src := repo(t, lintFinding())
	t.Setenv("GITHUB_TOKEN", canary)

	var outputs []string
	// Unknown to GitHub: the write fails (exit 3) and says so without the token.
	res := run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform")
	assert.Equal(t, 3, res.code, res.stderr)
	assert.Contains(t, res.stderr, "401")
	outputs = append(outputs, res.stdout, res.stderr)
	// Known: it posts; then a dry run.
	r.fake.Token(canary, githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	res = run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform")
	assert.Equal(t, 1, res.code, res.stderr)
	outputs = append(outputs, res.stdout, res.stderr)
	res = run(t, "flash", "--source", src, "--layer", "all", "--engine", "terraform", "--dry-run")
	outputs = append(outputs, res.stdout, res.stderr, r.read(t, r.summary), r.read(t, r.output))
	for _, c := range r.fake.Comments(ghRepo, ghPR) {
		outputs = append(outputs, c.Body)
	}
	for _, q := range r.fake.Requests() {
		outputs = append(outputs, q.Body, q.Path, q.Query.Encode())
	}
	for _, o := range outputs {
		assert.NotContains(t, o, "CANARY")
	}
}

func TestKickAtlantisOncePerCommit(t *testing.T) {
	r := newRunner(t, "", nil)
	src := repo(t, threeLayers())

	res := run(t, "kick-atlantis", "--source", src, "--layer", "platform,data")
	require.Equal(t, 0, res.code, res.stderr)
	var bodies []string
	for _, c := range r.fake.Comments(ghRepo, ghPR) {
		bodies = append(bodies, c.Body)
	}
	assert.Equal(t, []string{"atlantis plan -d terraform/2.platform", "atlantis plan -d terraform/3.data"}, bodies)
	st := r.fake.Statuses(ghRepo, headSHA)
	require.Len(t, st, 1)
	assert.Equal(t, "infra-flash/atlantis", st[0].Context)
	assert.Equal(t, "asked Atlantis to plan L2, L3", st[0].Description)

	res = run(t, "kick-atlantis", "--source", src, "--layer", "platform,data")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "already asked to plan ddddddd")
	assert.Len(t, r.fake.Comments(ghRepo, ghPR), 2, "a rerun asks nothing again")
}

func TestKickAtlantisRefusesAfterFailedChecks(t *testing.T) {
	r := newRunner(t, "", nil)
	src := repo(t, threeLayers())
	res := run(t, "kick-atlantis", "--source", src, "--layer", "data", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, "POST /repos/octo/infra/issues/7/comments\n{\n  \"body\": \"atlantis plan -d terraform/3.data\"\n}\n")
	assert.Empty(t, r.fake.Comments(ghRepo, ghPR))

	// The checks reported a failure on this commit: as a check run, or as a
	// commit status where check runs are not allowed.
	r.fake.AddCheckRun(ghRepo, githubtest.CheckRun{Name: "infra-flash/2.platform", HeadSHA: headSHA, Status: "completed", Conclusion: "failure"})
	res = run(t, "kick-atlantis", "--source", src, "--layer", "platform")
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stderr, "the checks failed on ddddddd for L2 Platform")
	r.fake.AddStatus(ghRepo, githubtest.Status{SHA: headSHA, Context: "infra-flash/3.data", State: "failure"})
	res = run(t, "kick-atlantis", "--source", src, "--layer", "data")
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stderr, "the checks failed on ddddddd for L3 Data")
	assert.Empty(t, r.fake.Comments(ghRepo, ghPR))
	assert.Empty(t, r.fake.Statuses(ghRepo, headSHA)[1:], "no kick recorded")
}

func TestReviewGate(t *testing.T) {
	ev := githubtest.Webhook(t, "issue_comment", "created")
	ev["issue"].(map[string]any)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
	ev["comment"].(map[string]any)["body"] = "PTAL\n_GitHubActionsFileCommandDelimeter_\nrun=true"
	r := newRunner(t, "issue_comment", ev)
	res := run(t, "review-gate")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "run=true\nreason=@Codertocat (OWNER) asked with PTAL\n", res.stdout)
	assert.Contains(t, r.read(t, r.output), "run<<")

	ev["comment"].(map[string]any)["author_association"] = "CONTRIBUTOR"
	data, _ := json.Marshal(ev)
	other := filepath.Join(t.TempDir(), "ev.json")
	require.NoError(t, os.WriteFile(other, data, 0o600))
	res = run(t, "review-gate", "--event", other, "--event-name", "issue_comment")
	require.Equal(t, 0, res.code, res.stderr)
	assert.True(t, strings.HasPrefix(res.stdout, "run=false\nreason=@Codertocat asked with PTAL but is CONTRIBUTOR"), res.stdout)

	require.NoError(t, os.WriteFile(other, []byte("{not json"), 0o600))
	res = run(t, "review-gate", "--event", other, "--event-name", "issue_comment")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "not a JSON object")
}

func TestPRCommandsRejectBadInput(t *testing.T) {
	newRunner(t, "", nil)
	src := repo(t, threeLayers())
	for _, args := range [][]string{
		{"flash", "--source", src, "--repo", "not-a-repo"},
		{"flash", "--source", src, "--sha", "xyz"},
		{"flash", "--source", src, "--run-url", "javascript:alert(1)"},
		{"flash", "--source", src, "--api-url", "ftp://host/"},
		{"kick-atlantis", "--source", src, "--app-key-file", "/nonexistent"},
		{"kick-atlantis", "--source", src, "--app-id", "5", "--app-key-file", "/nonexistent"},
		{"review-gate", "--event", "/nonexistent", "--event-name", "issue_comment"},
		{"flash", "--source", src, "--format", "yaml"},
	} {
		res := run(t, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		assert.Empty(t, res.stdout, "%v", args)
	}
}

func TestLayersMermaid(t *testing.T) {
	src := repo(t, threeLayers())
	res := run(t, "layers", "--source", src, "--format", "mermaid")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "flowchart LR\n"+
		"  n1[\"L1 Bootstrap<br/><small>1.bootstrap</small>\"]\n"+
		"  n2[\"L2 Platform<br/><small>2.platform</small>\"]\n"+
		"  n3[\"L3 Data<br/><small>3.data</small>\"]\n"+
		"  n1 --> n2\n  n2 --> n3\n", res.stdout)
}

// Outside Actions, flash without a commit says so before any check runs; it takes
// the same tool flags as validate.
func TestFlashWithoutACommitFailsFirst(t *testing.T) {
	for _, k := range []string{"GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_SHA", "GITHUB_API_URL"} {
		t.Setenv(k, "")
	}
	testfixture.Tools(t, "terraform")
	src := repo(t, threeLayers())
	res := run(t, "flash", "--source", src, "--repo", ghRepo, "--layer", "all", "--dry-run")
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Equal(t, "infra: no commit: pass --sha (or --pr, or an event)\n", res.stderr, "nothing checked first")
	assert.Empty(t, res.stdout)

	// An event that names no commit: an issue's comment.
	ev := filepath.Join(t.TempDir(), "issue_comment.json")
	data, err := json.Marshal(githubtest.Webhook(t, "issue_comment", "created"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ev, data, 0o600))
	res = run(t, "flash", "--source", src, "--layer", "all", "--dry-run", "--event", ev, "--event-name", "issue_comment")
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Equal(t, "infra: no commit: the issue_comment event names no pull request or commit; pass --sha or --pr\n", res.stderr)

	res = run(t, "flash", "--source", src, "--repo", ghRepo, "--sha", headSHA, "--layer", "all", "--dry-run", "--provider-mirror", filepath.Join(src, "none"))
	assert.Equal(t, 2, res.code, res.stderr)
	assert.Contains(t, res.stderr, "is not a directory")
}

// GitHub refusing the post does not swallow the checks' report.
func TestFlashPrintsTheReportWhenGitHubFails(t *testing.T) {
	newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	t.Setenv("GITHUB_TOKEN", "ghs_unknown_to_github")
	res := run(t, "flash", "--source", repo(t, lintFinding()), "--layer", "all", "--format", "json")
	assert.Equal(t, 3, res.code, res.stderr)
	assert.Contains(t, res.stderr, "401")
	rep := decode(t, res)
	require.Len(t, rep.Layers, 3)
	assert.Equal(t, "fail", rep.Layers[2].Lint.Status)
}

// Without credentials and without --dry-run, the GitHub commands stop before any
// work, and say how to go on.
func TestNoCredentialsFailFirst(t *testing.T) {
	newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	t.Setenv("GITHUB_TOKEN", "")
	src := repo(t, threeLayers())
	for _, args := range [][]string{
		{"flash", "--source", src, "--layer", "all"},
		{"kick-atlantis", "--source", src, "--layer", "all"},
	} {
		res := run(t, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		assert.Equal(t, "infra: no GitHub credentials: set GITHUB_TOKEN, or a GitHub App (--app-id and its key), or use --dry-run\n", res.stderr, "%v", args)
		assert.Empty(t, res.stdout)
	}
	res := run(t, "kick-atlantis", "--source", src, "--layer", "all", "--dry-run")
	assert.Equal(t, 0, res.code, res.stderr)
}

// With --format json, a dry run's requests go to stderr: stdout stays one JSON document.
func TestDryRunKeepsJSONParseable(t *testing.T) {
	newRunner(t, "", nil)
	testfixture.Tools(t, "terraform")
	res := run(t, "flash", "--source", repo(t, threeLayers()), "--layer", "all", "--dry-run", "--format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Len(t, decode(t, res).Layers, 3)
	assert.Contains(t, res.stderr, "POST /repos/octo/infra/issues/7/comments")

	res = run(t, "flash", "--source", repo(t, threeLayers()), "--layer", "all", "--dry-run")
	assert.Contains(t, res.stdout, "POST /repos/octo/infra/issues/7/comments", "beside a text report, on stdout")

	// In an Actions job with findings, the annotations go to stderr (the
	// runner reads both streams), not before the JSON.
	res = run(t, "flash", "--source", repo(t, lintFinding()), "--layer", "all", "--engine", "terraform", "--format", "json")
	require.Equal(t, 1, res.code, res.stderr)
	assert.Len(t, decode(t, res).Layers, 3)
	assert.Empty(t, annotation.FindAllString(res.stdout, -1))
	assert.Len(t, annotation.FindAllString(res.stderr, -1), 1)
}
